package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is the server under attack, for the attacks that read more of it
// than their answers: its metrics, its admin API and its Redis.
type server struct {
	base  string // http://host:port
	proc  proc
	pg    backends      // "" on SQLite
	token string        // ADMIN_TOKEN
	redis *redis.Client // nil on the in-process cache
	db    int           // the Redis database the server uses
}

func newServer(url string, p proc, pg backends, redisURL string) (*server, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return nil, err
	}
	s := &server{base: u.Scheme + "://" + u.Host, proc: p, pg: pg, token: "bench"}
	if redisURL != "" {
		opt, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, err
		}
		s.redis, s.db = redis.NewClient(opt), opt.DB
	}
	return s, nil
}

// edgeAttacks are the attacks of issue 18's observations 4 to 7.
func (s *server) edgeAttacks() []attack {
	comment := func(i int) string { return fmt.Sprintf("#%08d%s", i, strings.Repeat("x", 14_891)) }
	return []attack{
		{"APQ flood: 10,000 comments (15 KB)", s.apqFlood(10_000, comment)},
		{"APQ flood: 10,000 valid documents", s.apqFlood(10_000, func(i int) string { return "{ __typename } " + comment(i) })},
		{"4,200 silent sockets, 100 /healthz", s.silentSockets(4_200, 100)},
		{"warming: 3 expensive x 3, 1 ingest", s.warming(3)},
		{"warming: 50 expensive x 3, 1 ingest", s.warming(50)},
		{"/readyz flood, one client, 5 s", s.readyzFlood(5 * time.Second)},
	}
}

// apqFlood registers n distinct texts as automatic persisted queries,
// text(i) each (8 at a time), between two reads of 40 cached answers. It
// reports the answers, what the first and last hashes alone answer then
// (PERSISTED_QUERY_NOT_FOUND unless the text was kept), how many of the 40
// answers hit before and after, and on Redis the growth of the server's
// database and of the whole instance's used_memory.
func (s *server) apqFlood(n int, text func(i int) string) func(*http.Client, string) string {
	return func(c *http.Client, url string) string {
		warm := func(i int) string { return query(fmt.Sprintf(`{ property(id: "%d") { id title price } }`, 1+i)) }
		hour := time.Now().Truncate(time.Hour)
		parallel(40, 1, func(i int) string { return send(c, url, warm(i), "").cache })
		warmed := count(parallel(40, 1, func(i int) string { return send(c, url, warm(i), "").cache }), "HIT")
		mem0, used0 := s.redisMemory()
		answers := parallel(n, 8, func(i int) string { return send(c, url, apq(text(i), true), "").String() })
		first, last := send(c, url, apq(text(0), false), ""), send(c, url, apq(text(n-1), false), "")
		hits := parallel(40, 1, func(i int) string { return send(c, url, warm(i), "").cache })
		out := fmt.Sprintf("%s; hash alone: first %s, last %s; of 40 cached answers, %d hit before, %d after",
			tally(answers), first.code, last.code, warmed, count(hits, "HIT"))
		if !time.Now().Truncate(time.Hour).Equal(hour) {
			out += " (the hour turned meanwhile: every answer's key is new, so they miss whatever the flood did)"
		}
		if s.redis != nil {
			mem1, used1 := s.redisMemory()
			out += fmt.Sprintf("; redis db %+.1f MB, used_memory %+.1f MB", float64(mem1-mem0)/(1<<20), float64(used1-used0)/(1<<20))
		}
		return out
	}
}

// apq is an automatic persisted query's body: text's hash, and the text
// if withText.
func apq(text string, withText bool) string {
	ext := fmt.Sprintf(`"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "%x"}}`, sha256.Sum256([]byte(text)))
	if !withText {
		return "{" + ext + "}"
	}
	q, _ := json.Marshal(text)
	return fmt.Sprintf(`{"query": %s, %s}`, q, ext)
}

// silentSockets holds n connections open that never send a byte,
// reopening each one the server closes, and once they have been open for
// 6 s (longer than any build's READ_HEADER_TIMEOUT, so the server has
// closed and they have reopened a first round) times the /healthz
// requests of `requests` new clients, 10 at a time. It reports their
// waits, the sockets the server closed, and the limiter's counters
// (kedahpulse_http_connections_*; n/a where the build has none).
func (s *server) silentSockets(n, requests int) func(*http.Client, string) string {
	return func(c *http.Client, _ string) string {
		metrics := []string{"silent_evicted_total", "evicted_total", "waits_total"}
		before := s.metrics(c, metrics)
		host := strings.TrimPrefix(s.base, "http://")
		ctx, stop := context.WithCancel(context.Background())
		var opened, closed, failed atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				for ctx.Err() == nil {
					conn, err := net.DialTimeout("tcp", host, 10*time.Second)
					if err != nil {
						failed.Add(1)
						time.Sleep(100 * time.Millisecond)
						continue
					}
					opened.Add(1)
					if silent(ctx, conn) {
						closed.Add(1)
					}
				}
			})
		}
		for deadline := time.Now().Add(time.Minute); opened.Load() < int64(n) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(6 * time.Second)
		fresh := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
		waits := make([]time.Duration, requests)
		answers := parallel(requests, 10, func(i int) string {
			start := time.Now()
			resp, err := fresh.Get(s.base + "/healthz")
			waits[i] = time.Since(start)
			if err != nil {
				return "error"
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.Status
		})
		stop()
		wg.Wait()
		after := s.metrics(c, metrics)
		slices.Sort(waits)
		slow, _ := slices.BinarySearch(waits, time.Second)
		out := fmt.Sprintf("%s; wait p50 %s, p90 %s, max %s, %d over 1 s; %d silent sockets closed by the server (%d dials failed)",
			tally(answers), ms(waits[len(waits)/2]), ms(waits[len(waits)*9/10]), ms(waits[len(waits)-1]), len(waits)-slow, closed.Load(), failed.Load())
		for i, name := range metrics {
			out += fmt.Sprintf("; %s %s", name, delta(before[i], after[i]))
		}
		return out
	}
}

// silent reads from conn, sending nothing, until the server closes it
// (true) or ctx is done (false); it closes conn.
func silent(ctx context.Context, conn net.Conn) bool {
	defer conn.Close()
	buf := make([]byte, 1)
	for ctx.Err() == nil {
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return true
		}
	}
	return false
}

// warming asks n distinct expensive analytics requests three times each
// (2 at a time), so that the Warmer counts them among the most requested,
// then ingests one post as the admin, which invalidates their answers. It
// reports the requests' answers (each must pass the limits), the server's
// CPU seconds (and PostgreSQL's) in the 15 s after the ingest, which the
// Warmer's replays of them take, and the replays counted (cacheStats).
func (s *server) warming(n int) func(*http.Client, string) string {
	return func(c *http.Client, url string) string {
		var codes []string // of every request, so that one the limits refuse shows
		for range 3 {
			codes = append(codes, parallel(n, 2, func(i int) string { return send(c, url, query(expensive(i)), "").code })...)
		}
		replays0 := s.warmReplays(c, url)
		ingest := send(c, url, ingestOne(), s.token)
		cpu0, pg0 := s.proc.cpu(), s.pg.cpu()
		time.Sleep(15 * time.Second)
		cpu := fmt.Sprintf("%.2f s", s.proc.cpu()-cpu0)
		if s.pg != "" {
			cpu += fmt.Sprintf(" (+%.2f s PostgreSQL)", s.pg.cpu()-pg0)
		}
		return fmt.Sprintf("requests %s; ingest %s; %s CPU in the 15 s after it; %d replays", tally(codes), ingest, cpu, s.warmReplays(c, url)-replays0)
	}
}

// expensive is the i-th of 60 distinct analytics requests, each among the
// costliest the limits let through (a cold trends with its series: about
// 10 to 60 ms of CPU on the demo data), each invalidated by a post of a
// Langkawi destination.
func expensive(i int) string {
	shapes := []struct {
		rng   string
		limit int
	}{{"LAST_90_DAYS", 4}, {"LAST_30_DAYS", 20}, {"LAST_7_DAYS", 30}}
	shape, filter := shapes[i%len(shapes)], i/len(shapes)
	var args string
	if k := filter % (len(categories) + 1); k > 0 {
		args += ", category: " + categories[k-1]
	}
	if filter/(len(categories)+1)%2 == 1 {
		args += `, city: "Langkawi"`
	}
	return fmt.Sprintf(`{ trends(range: %s, limit: %d%s) { growth series { date mentions } } }`, shape.rng, shape.limit, args)
}

// ingestOne is an admin ingestPosts of one new post of Pantai Cenang (in
// Langkawi), id 2 of the demo data.
func ingestOne() string {
	id := strconv.FormatInt(time.Now().UnixNano(), 10)
	b, _ := json.Marshal(map[string]any{
		"query": `mutation($p: [PostInput!]!) { ingestPosts(posts: $p) { stored invalidatedTags } }`,
		"variables": map[string]any{"p": []map[string]any{{
			"source": "hostile", "externalId": id, "text": "Pantai Cenang at sunset, lovely", "destinationId": "2",
			"postedAt": time.Now().UTC().Format(time.RFC3339),
		}}},
	})
	return string(b)
}

// warmReplays reads cacheStats.warmReplays as the admin.
func (s *server) warmReplays(c *http.Client, url string) int {
	var r struct {
		Data struct {
			CacheStats struct{ WarmReplays int } `json:"cacheStats"`
		}
	}
	json.Unmarshal(send(c, url, query(`{ cacheStats { warmReplays } }`), s.token).body, &r)
	return r.Data.CacheStats.WarmReplays
}

// readyzFlood asks /readyz as fast as one keep-alive client can for d. It
// reports the answers a second and, on Redis, the commands the server sent
// its database meanwhile (each readiness check is one Redis command and
// one database ping).
func (s *server) readyzFlood(d time.Duration) func(*http.Client, string) string {
	return func(c *http.Client, _ string) string {
		var commands func() int
		if s.redis != nil {
			var err error
			if commands, err = s.monitor(); err != nil {
				return "redis monitor: " + err.Error()
			}
		}
		var answers []string
		start := time.Now()
		for time.Since(start) < d {
			resp, err := c.Get(s.base + "/readyz")
			if err != nil {
				answers = append(answers, "error")
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers = append(answers, resp.Status)
		}
		elapsed := time.Since(start)
		out := fmt.Sprintf("%s; %.0f answers/s", tally(answers), float64(len(answers))/elapsed.Seconds())
		if commands != nil {
			out += fmt.Sprintf("; %d Redis commands in db %d", commands(), s.db)
		}
		return out
	}
}

// monitor counts the commands clients send to the server's Redis database
// (MONITOR, left out: the commands scripts run) until the returned
// function is called, which returns the count.
func (s *server) monitor() (func() int, error) {
	conn, err := net.Dial("tcp", s.redis.Options().Addr)
	if err != nil {
		return nil, err
	}
	io.WriteString(conn, "MONITOR\r\n")
	r := bufio.NewReaderSize(conn, 1<<16)
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		conn.Close()
		return nil, fmt.Errorf("MONITOR answered %q: %v", line, err)
	}
	ours := fmt.Sprintf(" [%d ", s.db)
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.Contains(line, ours) && !strings.Contains(line, " lua]") {
				n.Add(1)
			}
		}
	}()
	return func() int {
		time.Sleep(100 * time.Millisecond) // the last commands' lines
		conn.Close()
		<-done
		return int(n.Load())
	}, nil
}

// redisMemory returns the bytes of the keys in the server's Redis database
// (MEMORY USAGE of each, every element counted) and the instance's
// used_memory, which other databases' clients move too.
func (s *server) redisMemory() (keys, used int64) {
	if s.redis == nil {
		return 0, 0
	}
	ctx := context.Background()
	iter := s.redis.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		n, _ := s.redis.MemoryUsage(ctx, iter.Val(), 0).Result()
		keys += n
	}
	info, _ := s.redis.Info(ctx, "memory").Result()
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return keys, used
}

// metrics reads the server's kedahpulse_http_connections_<name> counters;
// -1 for one the build does not have.
func (s *server) metrics(c *http.Client, names []string) []float64 {
	out := make([]float64, len(names))
	for i := range out {
		out[i] = -1
	}
	resp, err := c.Get(s.base + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), " ")
		name, ok := strings.CutPrefix(name, "kedahpulse_http_connections_")
		if i := slices.Index(names, name); ok && i >= 0 {
			out[i], _ = strconv.ParseFloat(value, 64)
		}
	}
	return out
}

func delta(before, after float64) string {
	if before < 0 || after < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(after-before, 'f', -1, 64)
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
