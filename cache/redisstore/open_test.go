package redisstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kedahpulse/kedahpulse/cache"
	"github.com/kedahpulse/kedahpulse/cache/redisstore"
)

func TestOpen(t *testing.T) {
	tests := map[string]struct {
		url     string
		wantErr bool
		check   func(redis.UniversalClient) bool
	}{
		"single": {url: "redis://user:pw@h:6380/2", check: func(c redis.UniversalClient) bool {
			cl, ok := c.(*redis.Client)
			return ok && cl.Options().Addr == "h:6380" && cl.Options().DB == 2 && cl.Options().Password == "pw"
		}},
		"tls": {url: "rediss://h:6380/0", check: func(c redis.UniversalClient) bool {
			cl, ok := c.(*redis.Client)
			return ok && cl.Options().TLSConfig != nil
		}},
		"cluster": {url: "redis-cluster://h1:7000?addr=h2:7001&addr=h3:7002", check: func(c redis.UniversalClient) bool {
			cl, ok := c.(*redis.ClusterClient)
			return ok && fmt.Sprint(cl.Options().Addrs) == "[h1:7000 h2:7001 h3:7002]"
		}},
		"sentinel": {url: "redis-sentinel://s1:26379?master_name=mymaster&addr=s2:26379", check: func(c redis.UniversalClient) bool {
			_, ok := c.(*redis.Client)
			return ok
		}},
		"sentinel without master": {url: "redis-sentinel://s1:26379", wantErr: true},
		"unknown scheme":          {url: "memcached://h:11211", wantErr: true},
		"no scheme":               {url: "h:6379", wantErr: true},
		"bad option":              {url: "redis://h:6379?no_such_option=1", wantErr: true},
		"cluster with bad option": {url: "redis-cluster://h:7000?no_such_option=1", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := redisstore.Open(tt.url, "kptest:")
			if tt.wantErr {
				if err == nil {
					_ = s.Close()
					t.Fatal("no error")
				}
				if bytes.Contains([]byte(err.Error()), []byte("pw")) {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !tt.check(s.Client()) {
				t.Errorf("unexpected client %T", s.Client())
			}
		})
	}
}

func TestParseInfo(t *testing.T) {
	text := "# Stats\r\ntotal_connections_received:9\r\nkeyspace_hits:120\r\nkeyspace_misses:30\r\n\r\n" +
		"# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n\r\n# Clients\r\nconnected_clients:4\r\n"
	got := redisstore.ParseInfo(text)
	want := cache.Info{KeyspaceHits: 120, KeyspaceMisses: 30, UsedMemoryBytes: 1048576, ConnectedClients: 4}
	if *got != want {
		t.Errorf("ParseInfo = %+v, want %+v", *got, want)
	}
}
