package db_test

import (
	"testing"

	"github.com/kedahpulse/kedahpulse/db"
)

func TestMatcher(t *testing.T) {
	dests := []*db.Destination{
		{ID: 1, Name: "Pantai Cenang", Slug: "pantai-cenang"},
		{ID: 2, Name: "Pekan Rabu", Slug: "pekan-rabu"},
		{ID: 3, Name: "Langkawi Sky Bridge", Slug: "sky-bridge"},
		{ID: 4, Name: "Sky Bridge Café", Slug: "sky-bridge-cafe"},
		{ID: 5, Name: "Gunung Raya", Slug: "gunung-raya"},
		{ID: 6, Name: "Raya", Slug: "raya"},
		{ID: 7, Name: "Alor Setar Tower", Slug: "menara-alor-setar"},
		{ID: 8, Name: "Pantai Tengah", Slug: "pantai-tengah"},
		{ID: 9, Name: "Tengah", Slug: "tengah"},
		{ID: 10, Name: "Pantai Kok", Slug: "pantai-kok"},
		{ID: 11, Name: "Pantai-Kok", Slug: "kok-2"},
	}
	m := db.NewMatcher(dests)
	tests := []struct {
		name, text string
		want       int64 // 0: no match
	}{
		{"exact name", "Pantai Cenang", 1},
		{"in a sentence", "Sunset at Pantai Cenang was amazing!", 1},
		{"case", "PANTAI cenang rocks", 1},
		{"accents in the text", "Shopping at Pékan Rabu today", 2},
		{"accents in the name", "coffee at sky bridge cafe", 4},
		{"extra spaces and punctuation", "pekan   rabu... so good", 2},
		{"split across lines", "Pantai\nCenang", 1},
		{"partial word", "Pantai Cenangan is lovely", 0},
		{"prefix of a word", "Pantai Cenang2", 0},
		{"words of the slug", "Walked the sky bridge", 3},
		{"slug with different name", "the menara alor setar at night", 7},
		{"longest name wins", "Langkawi Sky Bridge view", 3},
		{"longest wins over an inner name", "Hiking Gunung Raya", 5},
		{"longest name wins regardless of position", "Raya then Gunung Raya", 5},
		{"short name alone", "Hari Raya celebrations", 6},
		{"several places: longest", "From Tengah to Pantai Tengah", 8},
		{"tie on length: lowest id", "Pantai Kok", 10},
		{"nothing", "Lovely day at the beach", 0},
		{"empty", "", 0},
		{"name split by a word", "Pantai and Cenang", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := m.Match(tt.text)
			if ok != (tt.want != 0) || id != tt.want {
				t.Fatalf("Match(%q) = %d, %v; want %d", tt.text, id, ok, tt.want)
			}
		})
	}
	if _, ok := db.NewMatcher(nil).Match("Pantai Cenang"); ok {
		t.Fatal("empty matcher matched")
	}
}
