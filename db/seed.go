package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// SeedOptions sizes the demo data. Progress, when set, is called after each
// batch of each stage ("destinations", "properties", "posts", "rollups").
type SeedOptions struct {
	Destinations, Properties, Posts int
	Seed                            int64
	Progress                        func(stage string, done, total int)
}

// DemoSeed is the full demo: 200 destinations, 20 000 properties and
// 200 000 posts.
func DemoSeed() SeedOptions {
	return SeedOptions{Destinations: 200, Properties: 20_000, Posts: 200_000, Seed: 1}
}

// seedKey is the meta row that marks a seeded database.
const seedKey = "seed"

// seedBatch bounds the rows of one multi-row INSERT of the seed.
const seedBatch = 500

// Seeded reports whether Seed has loaded the demo data.
func (s *Store) Seeded(ctx context.Context) (bool, error) {
	ok, err := s.DB.NewSelect().Model((*metaEntry)(nil)).Where("name = ?", seedKey).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("db: seeded: %w", err)
	}
	return ok, nil
}

// Seed loads demo data once: destinations (real Kedah places first, then
// generated ones), properties, and posts spread over the 90 days before
// Now() with their rollups. Everything, with the meta marker row, is written
// in one transaction of batched multi-row inserts, so a database is seeded
// entirely or not at all, and of two concurrent seeds one is a no-op. The
// data depends only on o and Now().
func (s *Store) Seed(ctx context.Context, o SeedOptions) error {
	if o.Destinations < 0 || o.Properties < 0 || o.Posts < 0 {
		return errors.New("db: seed: negative count")
	}
	if o.Posts > 0 && o.Destinations == 0 {
		return errors.New("db: seed: posts need destinations")
	}
	if done, err := s.Seeded(ctx); err != nil || done {
		return err
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}
	now := s.now()
	g := &seeder{rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x6b65_6461_6870_756c)), now: now}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var marked []string
		if err := tx.NewInsert().Model(&metaEntry{Name: seedKey, Value: seedMarker(o, now)}).
			On("CONFLICT (name) DO NOTHING").Returning("name").Scan(ctx, &marked); err != nil {
			return fmt.Errorf("mark: %w", err)
		}
		if len(marked) == 0 {
			return nil // another seed got here first
		}
		dests, err := g.destinations(ctx, tx, o.Destinations)
		if err != nil {
			return err
		}
		if err := insertBatches(ctx, tx, dests, "destinations", progress, func(q *bun.InsertQuery) *bun.InsertQuery { return q }); err != nil {
			return err
		}
		props := g.properties(dests, o.Properties)
		if err := insertBatches(ctx, tx, props, "properties", progress, noReturning); err != nil {
			return err
		}
		posts := g.posts(s, dests, o.Posts)
		if err := insertBatches(ctx, tx, posts, "posts", progress, noReturning); err != nil {
			return err
		}
		rollups := rollupsOf(posts)
		for start := 0; start < len(rollups); start += seedBatch {
			end := min(start+seedBatch, len(rollups))
			if err := upsertRollups(ctx, tx, rollups[start:end]); err != nil {
				return err
			}
			progress("rollups", end, len(rollups))
		}
		daily := dailyRollupsOf(rollups)
		for start := 0; start < len(daily); start += seedBatch {
			if err := upsertDailyRollups(ctx, tx, daily[start:min(start+seedBatch, len(daily))]); err != nil {
				return err
			}
		}
		spans := spanRollupsOf(rollups)
		for start := 0; start < len(spans); start += seedBatch {
			if err := upsertSpanRollups(ctx, tx, spans[start:min(start+seedBatch, len(spans))]); err != nil {
				return err
			}
		}
		if err := addSeries(ctx, tx, rollups, daily); err != nil {
			return err
		}
		// Everything cached before may be stale, per-id and per-city
		// entries included: the seed invalidates every entry.
		tags := tagSet{}
		tags.add(TagAll)
		_, err = s.record(ctx, tx, tags)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: seed: %w", err)
	}
	return nil
}

func seedMarker(o SeedOptions, now time.Time) string {
	return fmt.Sprintf("seed=%d destinations=%d properties=%d posts=%d at=%s",
		o.Seed, o.Destinations, o.Properties, o.Posts, now.Format(time.RFC3339))
}

func noReturning(q *bun.InsertQuery) *bun.InsertQuery { return q.Returning("NULL") }

// insertBatches inserts rows seedBatch at a time, reporting progress.
func insertBatches[T any](ctx context.Context, idb bun.IDB, rows []*T, stage string,
	progress func(string, int, int), opt func(*bun.InsertQuery) *bun.InsertQuery,
) error {
	for start := 0; start < len(rows); start += seedBatch {
		end := min(start+seedBatch, len(rows))
		batch := rows[start:end]
		if _, err := opt(idb.NewInsert().Model(&batch)).Exec(ctx); err != nil {
			return fmt.Errorf("insert %s: %w", stage, err)
		}
		progress(stage, end, len(rows))
	}
	return nil
}

func rollupsOf(posts []*Post) []*postRollup {
	type key struct{ dest, bucket int64 }
	byKey := make(map[key]*postRollup)
	var out []*postRollup
	for _, p := range posts {
		k := key{*p.DestinationID, bucketOf(p.PostedAt)}
		r := byKey[k]
		if r == nil {
			r = &postRollup{DestinationID: k.dest, Bucket: k.bucket}
			byKey[k] = r
			out = append(out, r)
		}
		r.addPost(p.SentimentScore, p.SentimentLabel)
	}
	return out
}

// seeder generates the demo rows from one random source.
type seeder struct {
	rng *rand.Rand
	now time.Time
}

func (g *seeder) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// destinations returns n destinations with ids not yet assigned: the real
// places first, then generated ones, with slugs free in the database.
func (g *seeder) destinations(ctx context.Context, idb bun.IDB, n int) ([]*Destination, error) {
	var existing []string
	if err := idb.NewSelect().Model((*Destination)(nil)).Column("slug").Scan(ctx, &existing); err != nil {
		return nil, err
	}
	slugs := make(map[string]bool, len(existing)+n)
	for _, sl := range existing {
		slugs[sl] = true
	}
	names := make(map[string]bool, n)
	dests := make([]*Destination, 0, n)
	add := func(name, city string, cat Category, lat, lon float64, desc string) {
		names[name] = true
		slug := Slugify(name)
		base := slug
		for i := 2; slugs[slug]; i++ {
			slug = base + "-" + strconv.Itoa(i)
		}
		slugs[slug] = true
		lat, lon = math.Round(lat*1e4)/1e4, math.Round(lon*1e4)/1e4
		dests = append(dests, &Destination{
			Slug: slug, Name: name, City: city, CitySlug: CitySlug(city), Category: cat, Description: desc,
			Latitude: &lat, Longitude: &lon, CreatedAt: g.now, UpdatedAt: g.now,
		})
	}
	for _, p := range kedahPlaces {
		if len(dests) == n {
			return dests, nil
		}
		add(p.name, p.city, p.category, p.lat, p.lon, p.description)
	}
	for round := 1; len(dests) < n; round++ {
		k := kinds[g.rng.IntN(len(kinds))]
		loc := localities[g.rng.IntN(len(localities))]
		name := k.prefix + " " + loc.name
		if round > 4*len(kinds)*len(localities) {
			name += " " + strconv.Itoa(round)
		}
		if names[name] {
			continue
		}
		desc := fmt.Sprintf("%s in %s, %s: %s", k.prefix, loc.name, loc.city, g.pick(k.blurbs))
		add(name, loc.city, k.category, loc.lat+g.rng.NormFloat64()*0.01, loc.lon+g.rng.NormFloat64()*0.01, desc)
	}
	return dests, nil
}

// properties returns n listings; most belong to a destination.
func (g *seeder) properties(dests []*Destination, n int) []*Property {
	props := make([]*Property, 0, n)
	for range n {
		loc := localities[g.rng.IntN(len(localities))]
		place, city := loc.name, loc.city
		var destID *int64
		near := place
		if len(dests) > 0 && g.rng.IntN(100) < 85 {
			d := dests[g.rng.IntN(len(dests))]
			id := d.ID
			destID, city, near = &id, d.City, d.Name
		}
		kind := g.pick(propertyKinds)
		var title string
		switch g.rng.IntN(5) {
		case 0:
			title = fmt.Sprintf("%d-Bedroom %s in %s", 2+g.rng.IntN(4), kind, place)
		case 1:
			title = fmt.Sprintf("%s near %s", kind, near)
		case 2:
			title = fmt.Sprintf("Freehold %s, %s", kind, place)
		case 3:
			title = fmt.Sprintf("Renovated %s with Garden, %s", kind, city)
		default:
			title = fmt.Sprintf("%s for Sale, %d sq ft, %s", kind, 900+50*g.rng.IntN(60), place)
		}
		created := g.now.Add(-time.Duration(g.rng.Int64N(int64(365*day/time.Microsecond))) * time.Microsecond)
		props = append(props, &Property{
			Title:         title,
			Description:   fmt.Sprintf("%s %s", g.pick(propertyBlurbs), g.pick(propertyBlurbs)),
			Price:         Money(8_000_000 + g.rng.Int64N(300_000_000-8_000_000+1)),
			Location:      fmt.Sprintf("%d, Jalan %s %d, %s, %s, Kedah", 1+g.rng.IntN(250), g.pick(streets), 1+g.rng.IntN(12), place, city),
			DestinationID: destID,
			CreatedAt:     created,
			UpdatedAt:     created,
		})
	}
	return props
}

// posts returns n scored posts over the 90 days before now, most about the
// first (real, famous) destinations.
func (g *seeder) posts(s *Store, dests []*Destination, n int) []*Post {
	posts := make([]*Post, 0, n)
	span := int64(90 * day / time.Microsecond)
	for i := range n {
		d := dests[int(float64(len(dests))*math.Pow(g.rng.Float64(), 2.5))]
		var tmpl string
		switch mood := g.rng.IntN(10); {
		case mood < 5:
			tmpl = g.pick(positivePosts)
		case mood < 7:
			tmpl = g.pick(negativePosts)
		default:
			tmpl = g.pick(neutralPosts)
		}
		text := strings.ReplaceAll(tmpl, "{name}", d.Name)
		source := g.pick(postSources)
		author := "@" + g.pick(handles) + strconv.Itoa(g.rng.IntN(1000))
		url := fmt.Sprintf("https://%s.example/posts/seed-%d", source, i+1)
		score, label := s.scoreText(text)
		id := d.ID
		posts = append(posts, &Post{
			Source:         source,
			ExternalID:     fmt.Sprintf("seed-%d", i+1),
			Author:         &author,
			Text:           text,
			URL:            &url,
			PostedAt:       g.now.Add(-time.Duration(1+g.rng.Int64N(span)) * time.Microsecond),
			SentimentScore: score,
			SentimentLabel: label,
			DestinationID:  &id,
			CreatedAt:      g.now,
		})
	}
	return posts
}

type kedahPlace struct {
	name, city  string
	category    Category
	lat, lon    float64
	description string
}

// kedahPlaces are real places of Kedah with approximate coordinates.
var kedahPlaces = []kedahPlace{
	{"Langkawi Sky Bridge", "Langkawi", CategoryAttraction, 6.3861, 99.6627, "A curved pedestrian bridge 660 m above sea level on Gunung Mat Cincang."},
	{"Pantai Cenang", "Langkawi", CategoryBeach, 6.2925, 99.7279, "Langkawi's liveliest beach, with sunsets, cafés and water sports."},
	{"Kilim Karst Geoforest Park", "Langkawi", CategoryNature, 6.4081, 99.8561, "Mangroves, limestone karsts and eagles, explored by boat."},
	{"Gunung Jerai", "Yan", CategoryNature, 5.7880, 100.4339, "Kedah's highest peak, cool forest and views over the rice plains."},
	{"Alor Setar Tower", "Alor Setar", CategoryAttraction, 6.1224, 100.3667, "A 165 m telecommunications tower with an observation deck."},
	{"Zahir Mosque", "Alor Setar", CategoryCulture, 6.1210, 100.3649, "The state mosque of Kedah, built in 1912, with black domes."},
	{"Pekan Rabu", "Alor Setar", CategoryShopping, 6.1253, 100.3681, "A market of local food, crafts and textiles since the 1930s."},
	{"Lembah Bujang", "Merbok", CategoryCulture, 5.7370, 100.4107, "The archaeological valley of an ancient Hindu-Buddhist kingdom."},
	{"Pulau Payar", "Langkawi", CategoryIsland, 6.0633, 100.0411, "A marine park of coral reefs, reef sharks and clear water."},
	{"Telaga Tujuh", "Langkawi", CategoryNature, 6.4104, 99.6832, "The Seven Wells waterfall, seven pools down a mountain stream."},
	{"Pantai Tengah", "Langkawi", CategoryBeach, 6.2846, 99.7311, "A quieter beach just south of Pantai Cenang."},
	{"Tanjung Rhu", "Langkawi", CategoryBeach, 6.4573, 99.8238, "A long white-sand beach facing limestone islets."},
	{"Underwater World Langkawi", "Langkawi", CategoryAttraction, 6.2891, 99.7282, "An aquarium of tropical, temperate and sub-antarctic sea life."},
	{"Dataran Lang", "Langkawi", CategoryAttraction, 6.3134, 99.8513, "Eagle Square at Kuah jetty, with its giant eagle statue."},
	{"Masjid Al-Hana", "Langkawi", CategoryCulture, 6.3152, 99.8466, "Langkawi's main mosque in Kuah, in Moorish and Uzbek styles."},
	{"Pulau Dayang Bunting", "Langkawi", CategoryIsland, 6.2169, 99.7871, "The island of the Lake of the Pregnant Maiden."},
	{"Gunung Raya", "Langkawi", CategoryNature, 6.3700, 99.8100, "Langkawi's highest mountain, a winding road to a jungle summit."},
	{"Pantai Merdeka", "Sungai Petani", CategoryBeach, 5.6380, 100.3573, "A casuarina-lined beach loved for weekend seafood."},
	{"Muzium Padi", "Alor Setar", CategoryCulture, 6.1834, 100.3571, "The Paddy Museum at Gunung Keriang, on rice growing in Kedah."},
	{"Balai Besar", "Alor Setar", CategoryCulture, 6.1206, 100.3670, "The royal audience hall of the Kedah sultanate."},
	{"Wat Siam Nikrodharam", "Alor Setar", CategoryCulture, 6.1302, 100.3779, "A Thai Buddhist temple with a reclining Buddha."},
	{"Kota Kuala Kedah", "Kuala Kedah", CategoryCulture, 6.1049, 100.2918, "The old fort at the mouth of the Kedah river."},
	{"Hutan Lipur Bukit Wang", "Jitra", CategoryNature, 6.4180, 100.4620, "A forest recreation park with a river for picnics and swims."},
	{"Air Terjun Titi Hayun", "Yan", CategoryNature, 5.8063, 100.4001, "A waterfall at the foot of Gunung Jerai."},
	{"Hutan Lipur Sungai Sedim", "Kulim", CategoryNature, 5.4153, 100.7744, "A river forest park with one of the longest canopy walks."},
	{"Menara Jam Sungai Petani", "Sungai Petani", CategoryAttraction, 5.6473, 100.4878, "The clock tower of 1936 in the heart of Sungai Petani."},
	{"Tasik Pedu", "Kuala Nerang", CategoryNature, 6.2460, 100.8200, "A large reservoir lake among forested hills."},
	{"Oriental Village", "Langkawi", CategoryShopping, 6.3870, 99.6660, "Shops and cafés at the foot of the Langkawi cable car."},
	{"Durian Perangin", "Langkawi", CategoryNature, 6.3927, 99.8453, "A waterfall of fourteen tiers in the east of Langkawi."},
	{"Pantai Kok", "Langkawi", CategoryBeach, 6.3790, 99.6750, "A calm bay below Gunung Mat Cincang."},
	{"Laksa Teluk Kechai", "Kuala Kedah", CategoryFood, 6.1126, 100.3130, "Kedah laksa stalls by the Teluk Kechai road."},
	{"LIMA Langkawi", "Langkawi", CategoryEvent, 6.3300, 99.7300, "The Langkawi International Maritime and Aerospace Exhibition."},
}

type kind struct {
	prefix   string
	category Category
	blurbs   []string
}

var kinds = []kind{
	{"Homestay", CategoryStay, []string{"a kampung house among paddy fields.", "family rooms and breakfast.", "a quiet stay near the river."}},
	{"Chalet", CategoryStay, []string{"wooden chalets by the beach.", "chalets with a pool."}},
	{"Warung", CategoryFood, []string{"nasi lemak and teh tarik.", "laksa Kedah and cucur udang.", "mee udang and ikan bakar."}},
	{"Kedai Kopi", CategoryFood, []string{"roti canai at dawn.", "kopi O and half-boiled eggs."}},
	{"Air Terjun", CategoryNature, []string{"a waterfall with cool pools.", "a jungle trail to a waterfall."}},
	{"Bukit", CategoryNature, []string{"a hill with a sunrise view.", "a short hike over the paddy fields."}},
	{"Pantai", CategoryBeach, []string{"a quiet beach with fishing boats.", "a casuarina beach for picnics."}},
	{"Pasar Malam", CategoryShopping, []string{"a night market of snacks and clothes.", "a weekly night market."}},
	{"Masjid", CategoryCulture, []string{"a village mosque with old woodwork.", "a mosque by the river."}},
	{"Taman Rekreasi", CategoryAttraction, []string{"a park with a lake and playground.", "a jogging park."}},
	{"Pesta", CategoryEvent, []string{"a yearly harvest festival.", "a festival of food and music."}},
	{"Pulau", CategoryIsland, []string{"an islet reached by fishing boat.", "an island for snorkelling."}},
}

type locality struct {
	name, city string
	lat, lon   float64
}

var localities = []locality{
	{"Padang Matsirat", "Langkawi", 6.3420, 99.7360}, {"Ulu Melaka", "Langkawi", 6.3530, 99.7860},
	{"Ayer Hangat", "Langkawi", 6.4300, 99.8150}, {"Kedawang", "Langkawi", 6.3000, 99.7600},
	{"Bukit Malut", "Langkawi", 6.3300, 99.8600}, {"Kuah", "Langkawi", 6.3250, 99.8430},
	{"Anak Bukit", "Alor Setar", 6.1790, 100.3490}, {"Alor Janggus", "Alor Setar", 6.0720, 100.3780},
	{"Simpang Empat", "Alor Setar", 6.0330, 100.3280}, {"Langgar", "Alor Setar", 6.1170, 100.4220},
	{"Pokok Sena", "Alor Setar", 6.1700, 100.5200}, {"Changlun", "Jitra", 6.4330, 100.4330},
	{"Bukit Kayu Hitam", "Jitra", 6.5080, 100.4220}, {"Ayer Hitam", "Jitra", 6.2400, 100.3100},
	{"Kodiang", "Jitra", 6.3900, 100.3000}, {"Bedong", "Sungai Petani", 5.7300, 100.5100},
	{"Tikam Batu", "Sungai Petani", 5.6000, 100.4500}, {"Sungai Lalang", "Sungai Petani", 5.6500, 100.5900},
	{"Bukit Selambau", "Sungai Petani", 5.6700, 100.6000}, {"Kota Kuala Muda", "Sungai Petani", 5.5800, 100.3400},
	{"Tanjung Dawai", "Sungai Petani", 5.6700, 100.3600}, {"Padang Serai", "Kulim", 5.5000, 100.5600},
	{"Lunas", "Kulim", 5.4300, 100.5600}, {"Karangan", "Kulim", 5.4200, 100.6500},
	{"Junjung", "Kulim", 5.3700, 100.6100}, {"Guar Chempedak", "Yan", 5.8900, 100.3700},
	{"Singkir", "Yan", 5.8500, 100.3600}, {"Sungai Limau", "Yan", 5.8100, 100.3500},
	{"Dulang", "Yan", 5.8200, 100.3800}, {"Tebengau", "Kuala Kedah", 6.0500, 100.3000},
	{"Teluk Chengai", "Kuala Kedah", 6.0900, 100.3000}, {"Kupang", "Baling", 5.6400, 100.8500},
	{"Kuala Ketil", "Baling", 5.6000, 100.6800}, {"Tawar", "Baling", 5.8100, 100.7400},
	{"Pendang", "Pendang", 5.9930, 100.4760}, {"Tobiar", "Pendang", 5.9400, 100.5000},
	{"Gurun", "Gurun", 5.8170, 100.4730}, {"Jeniang", "Gurun", 5.8200, 100.6400},
	{"Durian Burung", "Kuala Nerang", 6.2200, 100.6500}, {"Naka", "Kuala Nerang", 6.1100, 100.6700},
}

var (
	propertyKinds = []string{"Terrace House", "Double-Storey Terrace", "Semi-D", "Bungalow", "Townhouse",
		"Condominium", "Apartment", "Kampung House", "Cluster Home", "Shoplot", "Homestay", "Agricultural Land"}
	propertyBlurbs = []string{
		"Freehold title, individual title ready.", "Fully renovated with extended kitchen.",
		"Walking distance to school and mosque.", "Gated and guarded community.",
		"Near the highway exit and the hospital.", "Corner lot with a big garden.",
		"Paddy field view, peaceful neighbourhood.", "Suitable for homestay business.",
		"Partly furnished, air-conditioned bedrooms.", "Bank loan available, below market value.",
	}
	streets       = []string{"Mawar", "Melati", "Cempaka", "Kenanga", "Seroja", "Teratai", "Putra", "Sultanah", "Kolam Air", "Langgar"}
	postSources   = []string{"twitter", "instagram", "facebook", "tripadvisor", "google"}
	handles       = []string{"aina", "farid", "mei", "kumar", "siti", "john", "nurul", "haziq", "lim", "sara"}
	positivePosts = []string{
		"Loved {name}! The view was breathtaking and the staff so friendly.",
		"{name} is beautiful, clean and well worth the trip. Highly recommend!",
		"Amazing sunset at {name} today, perfect end to a great holiday.",
		"Cantik sangat {name}, memang berbaloi datang!",
		"Suka betul dengan {name}, pemandangan indah dan bersih.",
		"Best gila {name}, anak-anak seronok sangat.",
	}
	negativePosts = []string{
		"{name} was crowded and dirty, very disappointing.",
		"Terrible traffic to {name} and overpriced parking. Not worth it.",
		"Rude staff at {name}, worst experience of the trip.",
		"{name} sesak dan kotor, kecewa betul.",
		"Mahal dan tak berbaloi langsung di {name}.",
	}
	neutralPosts = []string{
		"Visited {name} today with family.",
		"Anyone know the opening hours of {name}?",
		"On the way to {name} this morning.",
		"Singgah di {name} petang tadi.",
		"Ada sesiapa tahu waktu buka {name}?",
	}
)
