package sentiment

import "strings"

// Valences are on VADER's scale, roughly -4 (worst) to +4 (best). Keys are
// folded: lower case, accents removed, curly apostrophes made straight.

// english holds English words and common review vocabulary.
var english = map[string]float64{
	// positive
	"good": 1.9, "great": 3.1, "nice": 1.8, "nicer": 1.6, "nicest": 2.5,
	"excellent": 2.7, "amazing": 2.8, "amazed": 2.3, "awesome": 3.1, "fantastic": 2.6,
	"wonderful": 2.7, "wonderfully": 2.5, "beautiful": 2.9, "beautifully": 2.5,
	"stunning": 2.8, "breathtaking": 2.8, "gorgeous": 3.0, "lovely": 2.8,
	"pretty": 1.2, "perfect": 2.7, "perfectly": 2.0, "superb": 2.9,
	"brilliant": 2.8, "fabulous": 2.8, "incredible": 2.5, "magical": 2.5,
	"magnificent": 2.9, "spectacular": 2.8, "impressive": 2.3, "impressed": 2.0,
	"love": 3.2, "loved": 2.9, "loves": 2.7, "loving": 2.5, "liked": 1.8,
	"enjoy": 2.2, "enjoyed": 2.3, "enjoyable": 2.2, "enjoying": 2.2,
	"fun": 2.3, "happy": 2.7, "glad": 2.0, "pleased": 2.0, "satisfied": 1.8,
	"satisfying": 2.0, "delighted": 2.8, "delightful": 2.8, "terrific": 2.8,
	"outstanding": 3.0, "clean": 1.7, "cleaner": 1.5, "spotless": 2.0,
	"tidy": 1.5, "neat": 1.5, "friendly": 2.2, "helpful": 1.8, "kind": 2.0,
	"polite": 1.8, "courteous": 1.8, "welcoming": 2.0, "hospitable": 2.0,
	"attentive": 1.5, "efficient": 1.5, "professional": 1.5,
	"knowledgeable": 1.5, "peaceful": 2.2, "calm": 1.3, "serene": 2.0,
	"tranquil": 2.0, "quiet": 1.0, "quieter": 1.0, "relaxing": 2.0,
	"relaxed": 1.8, "relax": 1.5, "comfortable": 1.8, "comfy": 1.8,
	"cosy": 1.8, "cozy": 1.8, "spacious": 1.5, "charming": 2.0,
	"interesting": 1.7, "fascinating": 2.3, "informative": 1.5,
	"educational": 1.2, "recommend": 1.5, "recommended": 1.5,
	"delicious": 2.7, "tasty": 2.2, "yummy": 2.4, "flavourful": 2.0,
	"flavorful": 2.0, "affordable": 1.5, "cheap": 1.0, "reasonable": 1.2,
	"worth": 1.5, "worthwhile": 1.8, "safe": 1.3, "secure": 1.2,
	"refreshing": 2.0, "fresh": 1.3, "romantic": 2.0, "legendary": 2.0,
	"exceeded": 1.2, "gem": 2.0, "highlight": 1.8, "smoothly": 1.2,
	"smooth": 1.2, "easy": 1.0, "convenient": 1.5, "thanks": 1.5,
	"thank": 1.5, "encouraging": 1.5, "patient": 1.2, "lively": 1.5,
	"vibrant": 1.8, "adorable": 2.2, "cute": 2.0, "funny": 1.5,
	"pleasant": 2.0, "warm": 0.8, "wow": 2.0, "smiling": 1.5, "smile": 1.5,
	"smiles": 1.5, "better": 1.5, "best": 3.2, "finest": 2.5,
	"favourite": 2.0, "favorite": 2.0, "upgraded": 1.0, "paradise": 2.5,
	"heaven": 2.5, "heavenly": 2.5, "cool": 1.3, "epic": 2.0,
	"memorable": 2.2, "unforgettable": 2.5, "worthy": 1.5, "top-notch": 2.5,
	"picturesque": 2.2, "scenic": 1.8, "pristine": 2.2, "idyllic": 2.2,
	"ok": 0.9, "okay": 0.9, "fine": 0.8, "decent": 1.0, "helped": 1.2,
	"welcome": 1.5, "bargain": 1.5, "generous": 2.0, "honest": 1.5,
	"accommodating": 1.5, "excited": 2.0, "exciting": 2.2, "thrilling": 2.2,
	"must-visit": 2.0, "must-see": 1.8, "must-try": 1.8, "recommendation": 1.0,
	"beauty": 2.0, "wonder": 1.0, "blessed": 2.0, "grateful": 2.0,

	// negative
	"bad": -2.5, "worse": -2.1, "worst": -3.1, "terrible": -2.8,
	"terribly": -2.2, "horrible": -2.8, "horrendous": -3.0, "awful": -2.9,
	"poor": -2.0, "poorly": -1.5, "dirty": -2.0, "filthy": -2.5,
	"disgusting": -2.8, "gross": -2.0, "smelly": -1.8, "smelled": -1.0,
	"smells": -0.8, "stank": -2.0, "stinks": -2.0, "stinky": -2.0,
	"mould": -1.5, "mouldy": -2.0, "mold": -1.5, "moldy": -2.0,
	"rude": -2.0, "unfriendly": -1.8, "unhelpful": -1.8,
	"unprofessional": -2.0, "disappointed": -2.1, "disappointing": -2.2,
	"disappointment": -2.3, "letdown": -2.0, "boring": -1.8, "bored": -1.5,
	"dull": -1.5, "overpriced": -2.0, "expensive": -1.5, "pricey": -1.0,
	"overcharged": -2.0, "crowded": -1.3, "overcrowded": -2.0,
	"noisy": -1.5, "loud": -1.0, "dangerous": -2.0, "unsafe": -2.0,
	"scary": -1.2, "waste": -1.8, "wasted": -1.8, "scam": -2.5,
	"scammed": -2.5, "scammer": -2.5, "scammers": -2.5, "ripoff": -2.5,
	"rip-off": -2.5, "overrated": -1.8, "nightmare": -2.5, "broken": -1.8,
	"cancelled": -1.5, "canceled": -1.5, "delayed": -1.5, "delay": -1.2,
	"delays": -1.2, "late": -0.8, "slow": -1.3, "rushed": -1.2,
	"exhausting": -1.5, "exhausted": -1.2, "tiring": -1.2,
	"pointless": -1.8, "useless": -2.0, "sad": -2.0, "cruel": -2.5,
	"harmful": -2.0, "damaged": -1.8, "dead": -1.5, "sick": -1.5,
	"seasick": -1.5, "sweaty": -1.2, "uncomfortable": -1.8,
	"misleading": -2.0, "blamed": -1.5, "hate": -2.7, "hated": -2.7,
	"regret": -2.0, "regretted": -2.0, "avoid": -1.5, "unacceptable": -2.5,
	"frustrating": -2.0, "frustrated": -2.0, "annoying": -2.0,
	"annoyed": -2.0, "outdated": -1.3, "rundown": -1.5, "run-down": -1.5,
	"lousy": -2.3, "pushy": -1.5, "jellyfish": -1.0, "mosquito": -1.0,
	"mosquitoes": -1.0, "cockroach": -1.5, "cockroaches": -1.5,
	"bedbugs": -2.5, "leaking": -1.5, "leaky": -1.5, "rubbish": -1.5,
	"litter": -1.5, "trash": -1.5, "garbage": -1.5, "ruined": -2.3,
	"ruin": -2.0, "complaint": -1.2, "complaints": -1.2, "complain": -1.2,
	"meh": -1.0, "ugh": -1.5, "tiny": -0.5, "cramped": -1.5,
	"slippery": -1.2, "ignored": -1.5, "sucks": -2.0, "crap": -2.0,
	"fake": -1.5, "rotten": -2.5, "stale": -1.5, "bland": -1.2,
	"worried": -1.5, "worry": -1.2, "afraid": -1.5, "scared": -1.5,
	"angry": -2.3, "upset": -2.0, "fail": -2.0, "failed": -2.0,
	"mediocre": -1.3, "poisoning": -2.0, "hurt": -1.8, "injured": -2.0,
	"stolen": -2.0, "theft": -2.0, "robbed": -2.5, "unclean": -2.0,
	"unhygienic": -2.2, "chaotic": -1.5, "chaos": -1.5, "mess": -1.5,
	"messy": -1.5, "messed": -1.5, "confusing": -1.2, "stuck": -1.2,
	"problem": -1.2, "problems": -1.2, "issue": -0.8, "issues": -0.8,
	"pathetic": -2.5, "ridiculous": -1.8, "shame": -1.5,
	"unfortunately": -1.2, "sadly": -1.5, "disaster": -2.8,
	"horrific": -3.0, "unbearable": -2.5, "unpleasant": -2.0,
	"nasty": -2.5, "greedy": -1.8, "unreliable": -1.8, "closed": -1.0,
	"lacking": -1.2, "lack": -1.2, "smelt": -1.0, "stinking": -2.0,
	"sticky": -0.8, "polluted": -2.0, "pollution": -1.5, "sunburnt": -1.0,
}

// malay holds Malay words, Kedah dialect and Manglish short forms. Words that
// mean the same in both languages ("best", "fresh") live in english.
var malay = map[string]float64{
	// positive
	"cantik": 2.2, "cantiknya": 2.4, "lawa": 2.0, "cun": 2.0, "indah": 2.2,
	"bes": 2.5, "terbaik": 3.0, "sedap": 2.3, "lazat": 2.3, "enak": 2.0,
	"bersih": 1.7, "seronok": 2.2, "syok": 2.2, "syiok": 2.2, "sronok": 2.2,
	"hebat": 2.5, "menarik": 1.8, "murah": 1.5, "berbaloi": 2.0,
	"selesa": 1.8, "tenang": 1.6, "nyaman": 1.8, "segar": 1.5, "suka": 2.0,
	"gembira": 2.4, "bahagia": 2.5, "puas": 1.0, "mantap": 2.5, "padu": 1.8,
	"gempak": 2.2, "sempoi": 1.5, "ramah": 1.8, "peramah": 1.8,
	"mesra": 1.8, "membantu": 1.5, "berpatutan": 1.5, "menenangkan": 1.8,
	"menakjubkan": 2.8, "mengagumkan": 2.5, "bagus": 2.0, "baik": 1.5,
	"elok": 1.5, "jernih": 1.5, "luas": 1.0, "sesuai": 1.0, "selamat": 1.2,
	"teruja": 1.8, "menyeronokkan": 2.2, "terhibur": 1.8, "damai": 1.8,
	"layak": 1.0, "terjaga": 1.0, "senang": 1.2, "memuaskan": 2.0,
	"cekap": 1.5, "sopan": 1.5, "kemas": 1.5, "meriah": 1.5,
	"bertuah": 1.5, "berkualiti": 1.5, "menawan": 2.2, "mempesonakan": 2.5,
	"memukau": 2.5, "power": 1.5, "terbaek": 3.0, "syukur": 1.5,

	// negative
	"teruk": -2.5, "mahal": -1.5, "kotor": -2.0, "busuk": -2.2,
	"hampa": -2.2, "kecewa": -2.3, "mengecewakan": -2.5, "bosan": -1.8,
	"membosankan": -1.8, "sesak": -1.5, "lambat": -1.5, "lembap": -1.5,
	"rosak": -1.8, "sampah": -1.5, "bising": -1.5, "masam": -1.0,
	"tawar": -1.2, "pelik": -0.8, "menyesal": -2.0, "cuai": -1.8,
	"bahaya": -2.0, "berbahaya": -2.0, "susah": -1.2, "sakit": -1.5,
	"membazir": -1.8, "lalat": -1.0, "nyamuk": -1.0, "lipas": -1.5,
	"keruh": -1.5, "panas": -1.0, "penat": -1.2, "letih": -1.2,
	"sempit": -1.3, "tipu": -2.2, "penipu": -2.5, "biadap": -2.5,
	"biadab": -2.5, "sombong": -1.8, "terbalik": -1.5, "hancur": -2.0,
	"buruk": -2.2, "jijik": -2.5, "hanyir": -1.8, "hapak": -1.8,
	"sedih": -2.0, "marah": -2.0, "geram": -1.8, "benci": -2.5,
	"menyampah": -2.0, "serabut": -1.8, "semak": -1.5, "leceh": -1.5,
	"kecoh": -1.0, "huru-hara": -2.0, "mengarut": -1.8, "merepek": -1.5,
	"berkarat": -1.2, "usang": -1.2, "bocor": -1.5, "tersumbat": -1.5,
	"berbau": -1.2, "kecewakan": -2.3, "hampeh": -2.0, "cikai": -1.5,
	"lecah": -1.0, "bengang": -2.0,
}

// emoji holds emoji (variation selectors stripped) and ASCII emoticons.
var emoji = map[string]float64{
	"😍": 2.8, "🥰": 2.8, "😊": 2.0, "😀": 2.0, "😃": 2.0, "😄": 2.2,
	"😁": 2.2, "😆": 2.0, "🙂": 1.2, "😉": 1.2, "😎": 1.8, "🤩": 2.8,
	"😋": 2.3, "🤤": 1.5, "👍": 2.0, "👌": 1.8, "👏": 2.0, "🙌": 2.0,
	"💯": 2.0, "❤": 2.5, "♥": 2.5, "💕": 2.5, "💖": 2.5, "💗": 2.5,
	"💓": 2.5, "💞": 2.5, "💘": 2.5, "💙": 2.2, "💚": 2.2, "💛": 2.2,
	"💜": 2.2, "🧡": 2.2, "🤍": 2.0, "😻": 2.5, "🔥": 1.8, "✨": 1.2,
	"🌟": 1.5, "⭐": 1.2, "😘": 2.2, "🥳": 2.5, "🎉": 2.0, "😂": 1.0,
	"🤣": 1.0, "☺": 1.8, "🤗": 2.0, "😇": 1.8, "🙏": 1.0,
	":)": 2.0, ":-)": 2.0, "=)": 2.0, ":d": 2.3, ":-d": 2.3, ";)": 1.5,
	";-)": 1.5, "<3": 2.5, ":p": 1.0,

	"😡": -2.8, "🤬": -3.0, "😠": -2.5, "🤮": -2.8, "🤢": -2.3, "👎": -2.0,
	"😞": -2.0, "😔": -1.8, "😢": -2.0, "😭": -1.5, "💩": -2.2, "😤": -1.8,
	"😒": -1.5, "🙄": -1.5, "😩": -2.0, "😫": -2.0, "😖": -2.0, "😣": -1.8,
	"😟": -1.5, "🙁": -1.5, "☹": -1.8, "😕": -1.2, "💔": -2.5, "😱": -1.5,
	"😰": -1.5, "😓": -1.2, "🥵": -1.2, "🤦": -1.5, "😪": -1.0, "😑": -0.8,
	":(": -2.0, ":-(": -2.0, "=(": -2.0, ":'(": -2.2, ":/": -1.0, ":-/": -1.0,
}

// Modifier flags.
const (
	fNegator  uint8 = 1 << iota // flips the valence of a word up to three tokens on
	fPre                        // boost applies to a word that follows ("very good")
	fPost                       // boost applies to the word before ("sedap gila")
	fContrast                   // "but": the clause after it weighs more
	fAtAll                      // "langsung", "at all": deepens a negation
	fParticle                   // "la", "je": skipped when looking for a post-modifier
	fPhrase                     // first word of a multi-word entry in phrases
)

const (
	boostIncr = 0.293 // VADER's B_INCR
	boostDecr = -0.293
)

// modifiers holds words that change other words rather than carry sentiment.
var modifiers = map[string]entry{
	// intensifiers, before the word
	"very": {boost: boostIncr, flags: fPre}, "really": {boost: boostIncr, flags: fPre},
	"so": {boost: boostIncr, flags: fPre}, "soo": {boost: boostIncr, flags: fPre},
	"too": {boost: boostIncr, flags: fPre}, "extremely": {boost: 0.4, flags: fPre},
	"absolutely": {boost: boostIncr, flags: fPre}, "totally": {boost: boostIncr, flags: fPre},
	"completely": {boost: boostIncr, flags: fPre}, "incredibly": {boost: boostIncr, flags: fPre},
	"highly": {boost: boostIncr, flags: fPre}, "truly": {boost: boostIncr, flags: fPre},
	"definitely": {boost: boostIncr, flags: fPre}, "such": {boost: boostIncr, flags: fPre},
	"quite": {boost: 0.15, flags: fPre}, "most": {boost: boostIncr, flags: fPre},
	"more": {boost: 0.15, flags: fPre}, "much": {boost: boostIncr, flags: fPre},
	"super": {boost: boostIncr, flags: fPre}, "damn": {boost: boostIncr, flags: fPre},
	"especially": {boost: boostIncr, flags: fPre}, "utterly": {boost: boostIncr, flags: fPre},
	"huge": {boost: boostIncr, flags: fPre}, "hugely": {boost: boostIncr, flags: fPre},
	"seriously": {boost: boostIncr, flags: fPre}, "deeply": {boost: boostIncr, flags: fPre},
	"fully": {boost: boostIncr, flags: fPre}, "exceptionally": {boost: boostIncr, flags: fPre},
	"remarkably": {boost: boostIncr, flags: fPre}, "particularly": {boost: boostIncr, flags: fPre},
	"total": {boost: boostIncr, flags: fPre}, "honestly": {boost: 0.1, flags: fPre},
	"amat": {boost: boostIncr, flags: fPre}, "teramat": {boost: 0.4, flags: fPre},
	"paling": {boost: boostIncr, flags: fPre}, "terlalu": {boost: boostIncr, flags: fPre},
	"lebih": {boost: 0.15, flags: fPre}, "makin": {boost: 0.15, flags: fPre},
	"semakin": {boost: 0.15, flags: fPre}, "betul-betul": {boost: boostIncr, flags: fPre},
	"benar-benar": {boost: boostIncr, flags: fPre}, "memang": {boost: 0.1, flags: fPre},
	"mmg": {boost: 0.1, flags: fPre}, "confirm": {boost: 0.1, flags: fPre},
	"sangat-sangat": {boost: 0.4, flags: fPre},

	// intensifiers, before or after the word (Malay puts many after)
	"sangat": {boost: boostIncr, flags: fPre | fPost}, "sgt": {boost: boostIncr, flags: fPre | fPost},
	"sngt": {boost: boostIncr, flags: fPre | fPost}, "sungguh": {boost: boostIncr, flags: fPre | fPost},
	"gila": {boost: boostIncr, flags: fPre | fPost}, "giler": {boost: boostIncr, flags: fPre | fPost},
	"gile": {boost: boostIncr, flags: fPre | fPost},

	// intensifiers, after the word
	"betul": {boost: boostIncr, flags: fPost}, "betui": {boost: boostIncr, flags: fPost},
	"sekali": {boost: boostIncr, flags: fPost}, "nau": {boost: boostIncr, flags: fPost},
	"habis": {boost: boostIncr, flags: fPost}, "benar": {boost: boostIncr, flags: fPost},
	"siot": {boost: 0.2, flags: fPost},

	// diminishers
	"slightly": {boost: boostDecr, flags: fPre}, "somewhat": {boost: boostDecr, flags: fPre},
	"kinda": {boost: boostDecr, flags: fPre}, "sorta": {boost: boostDecr, flags: fPre},
	"fairly": {boost: boostDecr, flags: fPre}, "rather": {boost: boostDecr, flags: fPre},
	"partly": {boost: boostDecr, flags: fPre}, "marginally": {boost: boostDecr, flags: fPre},
	"bit": {boost: boostDecr, flags: fPre}, "almost": {boost: boostDecr, flags: fPre},
	"nearly": {boost: boostDecr, flags: fPre}, "less": {boost: boostDecr, flags: fPre},
	"agak": {boost: boostDecr, flags: fPre}, "hampir": {boost: boostDecr, flags: fPre},
	"sedikit": {boost: boostDecr, flags: fPre | fPost}, "sikit": {boost: boostDecr, flags: fPost},
	"sket": {boost: boostDecr, flags: fPost}, "skit": {boost: boostDecr, flags: fPost},

	// negators
	"not": {flags: fNegator}, "no": {flags: fNegator}, "never": {flags: fNegator},
	"none": {flags: fNegator}, "nobody": {flags: fNegator}, "nothing": {flags: fNegator},
	"neither": {flags: fNegator}, "nor": {flags: fNegator}, "nowhere": {flags: fNegator},
	"cannot": {flags: fNegator}, "without": {flags: fNegator}, "hardly": {flags: fNegator},
	"barely": {flags: fNegator}, "scarcely": {flags: fNegator}, "dont": {flags: fNegator},
	"didnt": {flags: fNegator}, "doesnt": {flags: fNegator}, "isnt": {flags: fNegator},
	"wasnt": {flags: fNegator}, "werent": {flags: fNegator}, "arent": {flags: fNegator},
	"cant": {flags: fNegator}, "couldnt": {flags: fNegator}, "wont": {flags: fNegator},
	"wouldnt": {flags: fNegator}, "shouldnt": {flags: fNegator}, "aint": {flags: fNegator},
	"can't": {flags: fNegator}, "couldn't": {flags: fNegator},
	"tak": {flags: fNegator}, "tidak": {flags: fNegator}, "x": {flags: fNegator},
	"tk": {flags: fNegator}, "tdk": {flags: fNegator}, "bukan": {flags: fNegator},
	"bkn": {flags: fNegator}, "jangan": {flags: fNegator}, "jgn": {flags: fNegator},
	"takde": {flags: fNegator}, "tiada": {flags: fNegator}, "xde": {flags: fNegator},
	"belum": {flags: fNegator}, "blm": {flags: fNegator}, "kurang": {flags: fNegator},
	"tanpa": {flags: fNegator}, "takkan": {flags: fNegator}, "xkan": {flags: fNegator},

	// contrast: the clause after the word weighs more
	"but": {flags: fContrast}, "tapi": {flags: fContrast}, "tetapi": {flags: fContrast},
	"however": {flags: fContrast}, "namun": {flags: fContrast}, "nevertheless": {flags: fContrast},
	"nonetheless": {flags: fContrast}, "tp": {flags: fContrast},

	// deepen a negation ("tak sedap langsung")
	"langsung": {flags: fAtAll}, "pun": {flags: fAtAll}, "whatsoever": {flags: fAtAll},

	// particles skipped when looking for a post-modifier ("best la gila")
	"la": {flags: fParticle}, "lah": {flags: fParticle}, "je": {flags: fParticle},
	"jer": {flags: fParticle}, "kot": {flags: fParticle}, "weh": {flags: fParticle},
	"wei": {flags: fParticle}, "sia": {flags: fParticle}, "doh": {flags: fParticle},
	"tau": {flags: fParticle},
}

// phrases holds multi-word entries of two or three words. A phrase replaces
// its words: "can't wait" is positive and its "can't" negates nothing.
var phrases = map[string]entry{
	"can't wait": {valence: 2.0}, "cant wait": {valence: 2.0}, "cannot wait": {valence: 2.0},
	"couldn't stop": {}, "can't stop": {}, "cant stop": {},
	"tak sabar": {valence: 2.0}, "x sabar": {valence: 2.0},
	"tak sangka": {}, "x sangka": {}, "tidak sangka": {},
	"no wonder": {}, "not only": {}, "no doubt": {},
	"no problem": {valence: 1.0}, "no problems": {valence: 1.0}, "no issues": {valence: 1.0},
	"puas hati": {valence: 2.0}, "sakit hati": {valence: -2.2},
	"terima kasih": {valence: 1.5}, "thank you": {valence: 1.5},
	"buang masa": {valence: -2.0}, "buang duit": {valence: -2.0},
	"kurang ajar": {valence: -2.5}, "cekik darah": {valence: -2.5},
	"ambil kesempatan": {valence: -1.5},
	"tak cukup":        {valence: -1.2}, "x cukup": {valence: -1.2}, "tidak cukup": {valence: -1.2},
	"not enough": {valence: -1.2},
	"come back":  {valence: 1.5}, "coming back": {valence: 1.5}, "visit again": {valence: 1.5},
	"stay again": {valence: 1.5}, "come again": {valence: 1.5}, "go again": {valence: 1.2},
	"datang lagi": {valence: 1.5}, "datang semula": {valence: 1.5}, "pergi lagi": {valence: 1.2},
	"must visit": {valence: 2.0}, "must see": {valence: 1.8}, "must try": {valence: 1.8},
	"wajib cuba": {valence: 1.8}, "wajib pergi": {valence: 1.8}, "wajib datang": {valence: 1.8},
	"hidden gem": {valence: 2.5}, "value for money": {valence: 1.8},
	"rip off": {valence: -2.5}, "ripped off": {valence: -2.5}, "tourist trap": {valence: -2.0},
	"out of order": {valence: -1.8}, "broke down": {valence: -2.0}, "broken down": {valence: -1.8},
	"messed up": {valence: -2.0}, "food poisoning": {valence: -2.5},
	"traffic jam": {valence: -1.5}, "long queue": {valence: -1.2}, "long queues": {valence: -1.2},
	"long wait": {valence: -1.5}, "long waits": {valence: -1.5}, "waited forever": {valence: -1.8},
	"too long": {valence: -1.2}, "nothing special": {valence: -1.5},
	"nothing to do": {valence: -1.5}, "same old": {valence: -1.0}, "on time": {valence: 1.0},
	"well maintained": {valence: 1.8}, "well organised": {valence: 1.8},
	"well organized": {valence: 1.8}, "well kept": {valence: 1.8}, "well marked": {valence: 1.0},
	"well done": {valence: 2.0}, "top notch": {valence: 2.5}, "tip top": {valence: 2.0},
	"so so": {valence: -0.5},
	"a bit": {boost: boostDecr, flags: fPre}, "a little": {boost: boostDecr, flags: fPre},
	"sort of":    {boost: boostDecr, flags: fPre},
	"bukan main": {boost: 0.4, flags: fPre}, "nak mampus": {boost: boostIncr, flags: fPost},
	"at all": {flags: fAtAll}, "sikit pun": {flags: fAtAll}, "sedikit pun": {flags: fAtAll},
}

// entry is what the scorer knows about one word or phrase.
type entry struct {
	valence float64 // sentiment carried by the word itself
	boost   float64 // added to the magnitude of the word it modifies
	flags   uint8
}

// lexicon is the merged, read-only table used by Score. Phrase first words
// carry fPhrase so that phrases are only looked up where they can start.
var lexicon = buildLexicon()

func buildLexicon() map[string]entry {
	m := make(map[string]entry, len(english)+len(malay)+len(emoji)+len(modifiers)+len(phrases))
	for _, words := range []map[string]float64{english, malay, emoji} {
		for w, v := range words {
			e := m[w]
			e.valence = v
			m[w] = e
		}
	}
	for w, mod := range modifiers {
		e := m[w]
		e.boost, e.flags = mod.boost, e.flags|mod.flags
		m[w] = e
	}
	for p := range phrases {
		first, _, _ := strings.Cut(p, " ")
		e := m[first]
		e.flags |= fPhrase
		m[first] = e
	}
	return m
}
