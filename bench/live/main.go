// Command live is the load tool of live queries (issue 21): it holds N
// GraphQL over SSE subscribers spread over M distinct live queries (the
// price of M properties), then makes W writes, one property at a time, and
// measures for each write the time from the mutation's acknowledgement to
// the push at every subscriber whose answer changed, and counts the pushes
// that reached the others (there must be none). With -pid it reports the
// server's CPU while no write happens and its memory per subscriber.
//
//	go run ./bench/live -url http://127.0.0.1:8080/graphql -subs 20000 -queries 200 -writes 100 -pid $(pgrep ...)
//
// Several comma-separated -url spread the subscribers over several server
// processes sharing one cache; writes go through the first. The machine's
// open-file limit must allow N connections on both sides (ulimit -n), and
// the server's MAX_CONNECTIONS and LIVE_MAX_PER_CLIENT must exceed N.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const query = `query Price($id: ID!) @live { property(id: $id) { id price } }`

func main() {
	urls := flag.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoints, comma-separated (writes go through the first)")
	subs := flag.Int("subs", 1000, "subscribers")
	queries := flag.Int("queries", 100, "distinct live queries (properties)")
	writes := flag.Int("writes", 50, "writes measured")
	token := flag.String("token", "tok", "admin token")
	pid := flag.Int("pid", 0, "server process id, for CPU and memory (0: not measured)")
	idle := flag.Duration("idle", 10*time.Second, "how long CPU is measured with no write")
	dial := flag.Int("dial", 64, "subscriptions opened at once")
	flag.Parse()
	endpoints := strings.Split(*urls, ",")
	b := &bench{token: *token, write: endpoints[0]}
	b.client = &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 16, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	}}

	ids := b.properties(*queries)
	rssBefore, heapBefore := rss(*pid), heapInuse(endpoints)
	log.Printf("opening %d subscribers over %d queries on %d process(es)", *subs, *queries, len(endpoints))
	start := time.Now()
	b.subscribers = make([]*subscriber, *subs)
	sem := make(chan struct{}, *dial)
	var wg sync.WaitGroup
	for i := range *subs {
		s := &subscriber{query: i % *queries, id: ids[i%*queries], first: make(chan struct{})}
		b.subscribers[i] = s
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.open(b.client, endpoints[i%len(endpoints)])
			<-s.first
		})
	}
	wg.Wait()
	log.Printf("%d subscribers hold their first answer (%s)", *subs, time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // let the first answers' garbage go
	rssAfter, heapAfter := rss(*pid), heapInuse(endpoints)
	if *pid != 0 {
		cpu := cpuTicks(*pid)
		time.Sleep(*idle)
		used := float64(cpuTicks(*pid)-cpu) / 100 // USER_HZ
		fmt.Printf("idle CPU: %.2f s over %s (%.2f%% of one core)\n", used, *idle, 100*used/idle.Seconds())
		fmt.Printf("server RSS: %.1f MiB before, %.1f MiB with %d subscribers: %.1f KiB per subscriber\n",
			mib(rssBefore), mib(rssAfter), *subs, float64(rssAfter-rssBefore)/1024/float64(*subs))
	}
	if heapBefore > 0 {
		fmt.Printf("server Go heap in use: %.1f MiB before, %.1f MiB after: %.1f KiB per subscriber\n",
			mib(heapBefore), mib(heapAfter), float64(heapAfter-heapBefore)/1024/float64(*subs))
	}

	var latencies []time.Duration
	var wrong, expected int64
	for w := range *writes {
		q := w % *queries
		price := fmt.Sprintf("%d.00", 100000+w)
		changed := b.watchers(q)
		waits := make([]chan time.Time, len(changed))
		for i, s := range changed {
			waits[i] = s.expect(price)
		}
		expected += int64(len(changed))
		ack := b.setPrice(ids[q], price)
		for _, ch := range waits {
			got := wait(ch, 10*time.Second)
			if got.IsZero() {
				wrong++
				continue
			}
			latencies = append(latencies, max(got.Sub(ack), 0))
		}
	}
	time.Sleep(2 * time.Second) // pushes to the others, if any, would have arrived
	extra := b.pushes() - expected
	slices.Sort(latencies)
	fmt.Printf("writes: %d, pushes measured: %d, missing: %d, pushes beyond one per changed subscriber (to the others): %d\n",
		*writes, len(latencies), wrong, extra)
	if len(latencies) > 0 {
		fmt.Printf("ack -> push latency: p50 %s, p99 %s, max %s\n", pct(latencies, 50), pct(latencies, 99), latencies[len(latencies)-1])
	}
}

type bench struct {
	client      *http.Client
	token       string
	write       string
	subscribers []*subscriber
}

// properties creates n properties and returns their ids.
func (b *bench) properties(n int) []string {
	ids := make([]string, n)
	for i := range n {
		var out struct {
			Data struct{ CreateProperty struct{ ID string } }
		}
		b.post(fmt.Sprintf(`mutation { createProperty(input: {title: "live %d", description: "bench", price: "1", location: "Alor Setar"}) { id } }`, i), nil, &out)
		ids[i] = out.Data.CreateProperty.ID
	}
	return ids
}

func (b *bench) setPrice(id, price string) time.Time {
	b.post(`mutation($id: ID!, $p: Decimal) { updateProperty(id: $id, input: {price: $p}) { id } }`, map[string]any{"id": id, "p": price}, nil)
	return time.Now()
}

func (b *bench) post(q string, vars map[string]any, out any) {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest("POST", b.write, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := b.client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(raw, []byte(`"errors"`)) {
		log.Fatalf("%s: %d %s", q, resp.StatusCode, raw)
	}
	if out != nil {
		json.Unmarshal(raw, out)
	}
}

func (b *bench) watchers(q int) []*subscriber {
	var out []*subscriber
	for _, s := range b.subscribers {
		if s.query == q {
			out = append(out, s)
		}
	}
	return out
}

func (b *bench) pushes() int64 {
	var n int64
	for _, s := range b.subscribers {
		n += s.count.Load()
	}
	return n
}

// subscriber is one SSE stream.
type subscriber struct {
	query int
	id    string
	first chan struct{}
	count atomic.Int64 // pushes after the first answer

	mu   sync.Mutex
	want string
	got  chan time.Time
}

func (s *subscriber) open(c *http.Client, url string) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"id": s.id}})
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		log.Fatalf("subscribe: %d %s", resp.StatusCode, raw)
	}
	go s.read(resp.Body)
}

func (s *subscriber) read(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewReader(r)
	first := true
	for {
		line, err := sc.ReadSlice('\n')
		if err != nil {
			return
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		now := time.Now()
		if first {
			first = false
			close(s.first)
			continue
		}
		s.count.Add(1)
		s.mu.Lock()
		if s.got != nil && bytes.Contains(data, []byte(`"`+s.want+`"`)) {
			s.got <- now
			s.got = nil
		}
		s.mu.Unlock()
	}
}

// expect returns the channel that receives the time the answer carrying
// price arrives.
func (s *subscriber) expect(price string) chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.want, s.got = price, ch
	s.mu.Unlock()
	return ch
}

// wait returns the time ch receives, or zero after d.
func wait(ch chan time.Time, d time.Duration) time.Time {
	select {
	case t := <-ch:
		return t
	case <-time.After(d):
		return time.Time{}
	}
}

func pct(d []time.Duration, p int) time.Duration {
	return d[min(len(d)-1, (len(d)*p+99)/100-1)]
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// rss is the process's resident set in bytes (0 without a pid).
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTicks is the process's user+system CPU time in clock ticks.
func cpuTicks(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// heapInuse is go_memstats_heap_inuse_bytes summed over the endpoints'
// /metrics (0 if unavailable).
func heapInuse(endpoints []string) int64 {
	var sum int64
	for _, e := range endpoints {
		resp, err := http.Get(strings.TrimSuffix(e, "/graphql") + "/metrics")
		if err != nil {
			return 0
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				sum += int64(f)
			}
		}
	}
	return sum
}
