// Command hostile sends the attacks of the hostile-input issue (and of the
// pricing issue, 18, which need the demo data: SEED=demo), one after
// another, to a running server (the 20,000 idle connections are
// HOSTILE=1 go test -run TestHostileIdleConnections ./server/, which
// spreads them over client processes) and reports for each the server's
// CPU seconds (and, given its PostgreSQL database with -pg, the CPU
// seconds of that database's backends), the growth of its peak RSS (read
// from /proc/PID; the peak is reset between attacks through clear_refs,
// which needs the same user or root) and the answer, with the attack's own
// figures. Given the server's Redis (-redis), the attacks that fill or
// poll Redis also report its memory and the commands they caused.
// bench/hostile.sh builds and starts the server and runs it.
//
//	go run ./bench/hostile -url http://127.0.0.1:18090/graphql -pid 1234 [-redis redis://127.0.0.1:6379/11 -pg kp_hostile_1]
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kedahpulse/kedahpulse/graph/limit/limittest"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18090/graphql", "GraphQL endpoint")
	pid := flag.Int("pid", 0, "server process id (for CPU and RSS)")
	redisURL := flag.String("redis", "", "the server's Redis (REDIS_URL), whose database holds nothing else: its memory and commands are measured")
	pgDatabase := flag.String("pg", "", "the server's PostgreSQL database, whose backends' CPU is reported as pg_cpu_s")
	only := flag.String("run", "", "a regular expression: only the attacks whose names it matches")
	introspectionFile := flag.String("introspection", "graph/testdata/introspection.graphql", "graphql-js's introspection query")
	flag.Parse()
	introspection, err := os.ReadFile(*introspectionFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	s, err := newServer(*url, proc(*pid), backends(*pgDatabase), *redisURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	run, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile: -run:", err)
		os.Exit(2)
	}
	client := &http.Client{Timeout: 120 * time.Second}

	fmt.Printf("%-36s %9s %9s %12s  %s\n", "attack", "cpu_s", "pg_cpu_s", "peak_rss_mb", "answer")
	for _, a := range append(attacks(string(introspection)), s.edgeAttacks()...) {
		if !run.MatchString(a.name) {
			continue
		}
		s.proc.resetPeak()
		cpu0, pg0, rss0 := s.proc.cpu(), s.pg.cpu(), s.proc.rss()
		answer := a.run(client, *url)
		pg := "-"
		if s.pg != "" {
			pg = fmt.Sprintf("%.3f", s.pg.cpu()-pg0)
		}
		fmt.Printf("%-36s %9.3f %9s %12.1f  %s\n", a.name, s.proc.cpu()-cpu0, pg, float64(s.proc.peak()-rss0)/(1<<20), answer)
	}
	fmt.Printf("server heap after all attacks: RSS %.1f MB\n", float64(s.proc.rss())/(1<<20))
}

type attack struct {
	name string
	run  func(c *http.Client, url string) string
}

func attacks(introspection string) []attack {
	return []attack{
		{"fragment bomb N=26 (1 KB)", post(query(limittest.FragmentBomb(26, "sentimentSummary { total }")))},
		{"100 distinct 1 MB documents", func(c *http.Client, url string) string {
			var last string
			for i := range 100 {
				var b strings.Builder
				b.WriteString("{")
				for j := range 45_000 {
					fmt.Fprintf(&b, " x%d_%d: __typename", i, j)
				}
				b.WriteString(" }")
				last = post(query(b.String()))(c, url)
			}
			return last
		}},
		{"1,500 conflicting fields (63 KB)", post(query(limittest.Repeated(1500, `sentimentSummary(city: "c%d") { total }`, false)))},
		{"900 aliased searches (62 KB)", post(query(limittest.Repeated(900, `properties(filter: {search: "homestay%d"}, first: 0) { totalCount }`, true)))},
		{"duplicate variables member", post(`{"query": "query L($city: String, $first: Int) { properties(filter: {city: $city}, first: $first) { totalCount } }", "variables": {"city": "Nowhere"}, "variables": {"first": 5}}`)},
		{"2,000 aliased __schema (130 KB)", post(query(limittest.Repeated(2000, `__schema { types { name } }`, true)))},
		{"1 MB city argument", post(`{"query": "query($c: String) { sentimentSummary(city: $c) { total } }", "variables": {"c": "` + strings.Repeat("x", 1<<20-200) + `"}}`)},
		{"2,000 made-up HTTP methods", func(c *http.Client, url string) string {
			var status string
			for i := range 2000 {
				req, _ := http.NewRequest("M"+strconv.Itoa(i), url, nil)
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.Status
				}
			}
			return status
		}},
		{"graphql-js introspection query", post(query(introspection))},
		// Issue 18 (prices and shares), on the demo data (SEED=demo).
		{"trends by variables {limit: 10}", post(`{"query": ` + strconv.Quote(trendsQuery) + `, "variables": {"limit": 10}}`)},
		{"trends by variables {limit: 1e6}", post(`{"query": ` + strconv.Quote(trendsQuery) + `, "variables": {"limit": 1000000}}`)},
		{"4 x 16 distinct 90-day trends", concurrently(4, func(i int) string { return query(distinctTrends(i)) })},
		{"16 distinct searches (1.2 KB)", post(query(distinctSearches()))},
		{"NUL in city", post(`{"query": "query($c: String) { sentimentSummary(city: $c) { total } }", "variables": {"c": "Lang\u0000kawi"}}`)},
		{"8 costliest passing + 20 row reads", rowReadsUnder(8)},
	}
}

// trendsQuery is a dashboard's trends query, its values as variables.
const trendsQuery = `query Trends($limit: Int, $city: String) { trends(limit: $limit, city: $city) { range mentions previousMentions growth averageScore destination { id name } series { date mentions averageScore } } }`

var categories = []string{"ATTRACTION", "NATURE", "BEACH", "ISLAND", "CULTURE", "FOOD", "SHOPPING", "EVENT", "STAY"}

// distinctTrends is 16 trends fields over 90 days, each a distinct
// (category, limit), one unaliased (15 aliases pass the alias limit); run
// r shifts the limits so that no two runs share a field.
func distinctTrends(r int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range 16 {
		alias := fmt.Sprintf("x%d: ", i)
		if i == 0 {
			alias = ""
		}
		fmt.Fprintf(&b, " %strends(limit: %d, range: LAST_90_DAYS, category: %s) { growth }", alias, 1+r*2+i/len(categories), categories[i%len(categories)])
	}
	b.WriteString(" }")
	return b.String()
}

// distinctSearches is 16 text searches of distinct strings with their
// count.
func distinctSearches() string {
	var b strings.Builder
	b.WriteString("{")
	for i := range 16 {
		alias := fmt.Sprintf("x%d: ", i)
		if i == 0 {
			alias = ""
		}
		fmt.Fprintf(&b, ` %sproperties(filter: {search: "homestay %d"}, first: 0) { totalCount }`, alias, i)
	}
	b.WriteString(" }")
	return b.String()
}

// concurrently sends n requests at once, the body of request i from body,
// and summarises their answers.
func concurrently(n int, body func(i int) string) func(*http.Client, string) string {
	return func(c *http.Client, url string) string {
		return strings.Join(slices.Compact(parallel(n, n, func(i int) string { return post(body(i))(c, url) })), "; ")
	}
}

// parallel runs f(0) to f(n-1) on workers goroutines and returns their
// results in order.
func parallel(n, workers int, f func(i int) string) []string {
	out := make([]string, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out[i] = f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// tally counts equal results: "9998 x 200 data 27B, 2 x 502 ...", the most
// frequent first.
func tally(results []string) string {
	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d x %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

// rowReadsUnder sends n of the costliest requests the limits let through
// (a ranking over 90 days, each with a distinct category or city: cold)
// at once, and meanwhile 20 one-row reads one after another; it reports
// the slowest row read and the expensive requests' answers.
func rowReadsUnder(n int) func(*http.Client, string) string {
	return func(c *http.Client, url string) string {
		var wg sync.WaitGroup
		answers := make([]string, n)
		for i := range n {
			q := fmt.Sprintf(`{ topDestinations(range: LAST_90_DAYS, limit: 1, category: %s) { rank } }`, categories[i%len(categories)])
			if i >= len(categories) {
				q = fmt.Sprintf(`{ topDestinations(range: LAST_90_DAYS, limit: 1, city: "c%d") { rank } }`, i)
			}
			wg.Go(func() { answers[i] = post(query(q))(c, url) })
		}
		var slowest time.Duration
		for i := range 20 {
			start := time.Now()
			post(query(fmt.Sprintf(`{ property(id: "%d") { title } }`, 1+i)))(c, url)
			slowest = max(slowest, time.Since(start))
		}
		wg.Wait()
		return fmt.Sprintf("row read max %.1fms; %s", float64(slowest)/float64(time.Millisecond), strings.Join(slices.Compact(answers), "; "))
	}
}

func query(q string) string {
	b, _ := json.Marshal(map[string]string{"query": q})
	return string(b)
}

// post sends body and summarises the answer.
func post(body string) func(*http.Client, string) string {
	return func(c *http.Client, url string) string { return send(c, url, body, "").String() }
}

// answer is what the attacks read of a response.
type answer struct {
	status int    // 0 when the request failed
	code   string // the first error's extensions.code, "data" without errors, or why the request failed
	cache  string // X-Cache: HIT or MISS
	body   []byte
}

// String summarises a: status, first error code and size.
func (a answer) String() string {
	if a.status == 0 {
		return a.code
	}
	return fmt.Sprintf("%d %s %s", a.status, a.code, size(len(a.body)))
}

// send posts body, as the admin if token is set, and reads the answer.
func send(c *http.Client, url, body, token string) answer {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{code: "error: " + err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	json.Unmarshal(b, &r)
	code := "data"
	if len(r.Errors) > 0 {
		code = fmt.Sprint(r.Errors[0].Extensions["code"])
	}
	return answer{status: resp.StatusCode, code: code, cache: resp.Header.Get("X-Cache"), body: b}
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// proc reads a process's CPU time and memory from /proc.
type proc int

func (p proc) read(name string) []byte {
	if p == 0 {
		return nil
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/%s", int(p), name))
	return b
}

func (p proc) cpu() float64 {
	f := strings.Fields(string(p.read("stat")))
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[13], 64)
	s, _ := strconv.ParseFloat(f[14], 64)
	return (u + s) / 100 // clock ticks: USER_HZ is 100 on Linux
}

func (p proc) status(key string) int64 {
	for line := range bytes.SplitSeq(p.read("status"), []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(key+":")); ok {
			kb, _ := strconv.ParseInt(strings.Fields(string(v))[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (p proc) rss() int64  { return p.status("VmRSS") }
func (p proc) peak() int64 { return p.status("VmHWM") }

func (p proc) resetPeak() {
	if p != 0 {
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", int(p)), []byte("5"), 0)
	}
}

// backends are the PostgreSQL backends serving one database, found by
// their process titles ("postgres: 15/main: user database host(port) ...").
type backends string

// cpu sums their CPU seconds (a backend that exited is no longer counted:
// the server's pool keeps its connections).
func (b backends) cpu() float64 {
	if b == "" {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	total := 0.0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		title := string(proc(pid).read("cmdline"))
		if strings.HasPrefix(title, "postgres: ") && strings.Contains(title, " "+string(b)+" ") {
			total += proc(pid).cpu()
		}
	}
	return total
}
