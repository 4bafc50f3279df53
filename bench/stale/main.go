// Command stale checks, while a load test runs, that a write is visible to
// the next read: it reads destination(id) { properties(first: 10) }, changes
// the price of the first property listed, waits (250 ms by default: the
// acknowledgement is the promise, the wait only spaces the checks) and reads
// again; a read that still shows the old price is stale. It also reports the
// response level's hit ratio over its run, from cacheStats.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"
)

const read = `query Q($id: ID) { destination(id: $id) { id properties(first: 10) { id price } } }`

func main() {
	url := flag.String("url", "http://127.0.0.1:18080/graphql", "the API")
	token := flag.String("token", "bench", "the admin token")
	d := flag.Duration("duration", 10*time.Second, "how long to check")
	wait := flag.Duration("wait", 250*time.Millisecond, "between a write and its check")
	flag.Parse()
	c := client{url: *url, token: *token}
	before := c.responses()
	checks, stale := 0, 0
	end := time.Now().Add(*d)
	for i := 0; time.Now().Before(end); i++ {
		dest := fmt.Sprint(1 + i*37%200) // the ids wrk's Q3 cycles through
		props := c.properties(dest)
		if len(props) == 0 {
			continue
		}
		p := props[0]
		price := fmt.Sprintf("%d.%02d", 100000+i, i%100)
		c.do(`mutation($id: ID!, $p: Decimal) { updateProperty(id: $id, input: {price: $p}) { id } }`, map[string]any{"id": p.ID, "p": price}, true)
		time.Sleep(*wait)
		checks++
		for _, q := range c.properties(dest) {
			if q.ID == p.ID && q.Price != price {
				stale++
				log.Printf("stale: property %s shows price %s after it was set to %s", p.ID, q.Price, price)
			}
		}
	}
	after := c.responses()
	hits, misses := after[0]-before[0], after[1]-before[1]
	ratio := 0.0
	if hits+misses > 0 {
		ratio = float64(hits) / float64(hits+misses)
	}
	fmt.Printf("stale check: %d writes checked, %d stale; response hit ratio %.1f%% (%d hits, %d misses)\n", checks, stale, 100*ratio, hits, misses)
	if stale > 0 {
		os.Exit(1)
	}
}

type property struct{ ID, Price string }

type client struct{ url, token string }

func (c client) properties(dest string) []property {
	var out struct {
		Destination struct{ Properties []property }
	}
	c.decode(c.do(read, map[string]any{"id": dest}, false), &out)
	return out.Destination.Properties
}

func (c client) responses() [2]int64 {
	var out struct {
		CacheStats struct{ Responses struct{ Hits, Misses int64 } }
	}
	c.decode(c.do(`{ cacheStats { responses { hits misses } } }`, nil, true), &out)
	return [2]int64{out.CacheStats.Responses.Hits, out.CacheStats.Responses.Misses}
}

func (c client) do(query string, vars map[string]any, admin bool) json.RawMessage {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if admin {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		log.Fatal(err)
	}
	if len(r.Errors) > 0 {
		log.Fatalf("%s: %s", query, r.Errors[0].Message)
	}
	return r.Data
}

func (c client) decode(data json.RawMessage, v any) {
	if err := json.Unmarshal(data, v); err != nil {
		log.Fatal(err)
	}
}
