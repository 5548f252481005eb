/*
 * lexicon.h - the sentiment stage's word knowledge: one xxHash-keyed open
 * addressing table from a word (or a space-joined phrase) to everything the
 * scorer needs to know about it (valence, booster step, negation, contrast,
 * name-related classes), plus the emoji table.  Loaded once in create(),
 * read-only afterwards, so the worker threads share it without locks.
 *
 * A word is only ever a byte string here: "constructor" or "__proto__" are
 * looked up like any other word.
 */
#ifndef TM_SENTIMENT_LEXICON_H
#define TM_SENTIMENT_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include <textmill/stage.h>

/* xxHash's own header-only build (same algorithm, same values as the
 * library): sl_hash below is inlined where tokens are hashed. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

/* Word classes (bits of sl_entry.flags). */
enum {
    SL_VALENCE = 1u << 0,    /* has a lexicon valence */
    SL_BOOSTER = 1u << 1,    /* degree adverb: booster (>0) or dampener (<0) */
    SL_NEGATION = 1u << 2,   /* negates what follows */
    SL_CONTRAST = 1u << 3,   /* "but": shifts weight to what follows */
    SL_PHRASE_START = 1u << 4, /* first word of at least one phrase */
    SL_PHRASE = 1u << 5,     /* this key is a whole phrase */
    SL_TITLE = 1u << 6,      /* person title: Mr, Sen, President */
    SL_NOT_NAME = 1u << 7,   /* capitalised, but never (part of) a person name */
    SL_ORG = 1u << 8,        /* marks a capitalised sequence as an organisation/place */
    SL_PRONOUN = 1u << 9,    /* personal pronoun (he, she, his...) */
    SL_SPEECH = 1u << 10,    /* speech/attribution verb: said, told, added */
    SL_FUNCTION = 1u << 11,  /* function word (the, of, and...) */
    SL_NAME_LINK = 1u << 12, /* may sit inside a name: de, van, bin, al */
    SL_DERIVED = 1u << 13,   /* valence inherited from an inflected lexicon word */
    SL_LEARNED = 1u << 14,   /* has a learned (news) valence, used when no lexicon valence */
    SL_PHRASE_PREFIX = 1u << 15, /* the first two words of a longer phrase */
};

/* Gender for titles and pronouns. */
enum { SL_GENDER_NONE = 0, SL_GENDER_MALE = 1, SL_GENDER_FEMALE = 2, SL_GENDER_PLURAL = 3 };

/* A phrase's meaning (SL_PHRASE entries). */
enum {
    SL_PHRASE_VALENCE = 1, /* the phrase as a unit has this valence ("kiss of death") */
    SL_PHRASE_BOOSTER = 2, /* the phrase is a degree modifier ("kind of") */
    SL_PHRASE_NEUTRAL = 3, /* the phrase cancels its words ("bus stop") */
};

typedef struct sl_entry {
    uint32_t key_off;   /* into the table's key arena */
    uint16_t key_len;
    uint16_t flags;
    float valence;      /* SL_VALENCE or SL_PHRASE_VALENCE */
    float booster;      /* SL_BOOSTER or SL_PHRASE_BOOSTER */
    float learned;      /* SL_LEARNED */
    uint8_t phrase_kind;
    uint8_t phrase_words; /* SL_PHRASE: number of words */
    uint8_t gender;     /* SL_TITLE / SL_PRONOUN */
    int8_t lean;        /* "lean" rule: valence in hundredths this word adds to its
                         * sentence when another word follows it ("too long") */
} sl_entry_t;

/* An emoji: its UTF-8 key and its description, pre-split into words. */
typedef struct sl_emoji {
    uint64_t hash;
    uint32_t key_off;
    uint16_t key_len;
    uint16_t nwords;
    uint32_t words_off; /* index into the table's emoji word list */
} sl_emoji_t;

/* A slot of the frozen lookup table: the key's 64-bit hash beside a copy
 * of its entry, 32 bytes, so a lookup reads one cache line. */
typedef struct sl_slot {
    uint64_t hash;
    sl_entry_t e;  /* e.key_len == 0: empty slot */
} sl_slot_t;
_Static_assert(sizeof(sl_slot_t) == 32, "a slot is a quarter cache line");

typedef struct sl_lexicon {
    /* The index is kept small so that it stays in cache: each slot holds the
     * high 32 bits of the key's hash and (entry number + 1); 0 = empty. */
    uint64_t *index;
    size_t cap;        /* slots, a power of two */
    sl_entry_t *ents;  /* entries, in insertion order */
    uint64_t *hashes;  /* sl_hash of each entry's key (same order): growing and
                        * freezing the table do not hash the keys again */
    uint64_t *bloom;   /* one bit per hash value slice: a cache-resident "surely absent" test */
    size_t count, ecap;
    char *keys;
    size_t keys_len, keys_cap;
    sl_emoji_t *emoji; /* open-addressing table too */
    size_t emoji_cap, emoji_count;
    /* Emoji description words: (offset, length) pairs into keys. */
    uint32_t *ewords;
    size_t ewords_len, ewords_cap;
    size_t emoji_max_bytes; /* longest emoji key, bytes */
    /* One bit per code point below SL_EMOJI_FIRST_CPS that starts an emoji
     * key (sl_emoji_never_starts), so the tokenizer skips sl_emoji_match
     * at the quotation marks and dashes of a text, whose code point it has
     * decoded, instead of hashing each candidate length; emoji_first_other:
     * some key starts with a code point outside the bitmap (the filter is
     * off). */
    uint64_t *emoji_first;
    int emoji_first_other;
    int max_phrase_words;
    /* Built by sl_freeze once loading is done; NULL while loading. */
    sl_slot_t *flat;
    size_t flat_mask;
    /* Built by sl_freeze: a Bloom filter (one bit per pair) of the first two
     * words of every phrase, keyed by the two words' hashes, so the scorer
     * skips most phrase starts without joining and hashing two words.
     * NULL: no filter (every pair may start a phrase). */
    uint64_t *pairs;
    /* Built by sl_freeze: one bit per (first byte, last byte) of every key
     * of at most SL_ENDS_MAXLEN bytes with a valence and a byte that is
     * neither a letter/digit nor non-ASCII (emoticons: ":-)", "</3"), so the
     * tokenizer skips the whole-chunk lookups of most chunks like "it.".
     * NULL: no filter. */
    uint64_t *ends;
} sl_lexicon_t;

int sl_init(sl_lexicon_t *lx);
void sl_free(sl_lexicon_t *lx);

/* Memory for a table read at random (64-byte aligned; from 1 MB on a
 * transparent huge page where the system allows it).  free() releases it. */
void *sl_alloc_table(size_t bytes);

/* Build the read-only lookup table used after start-up (one cache line per
 * lookup: a key is identified by its 64-bit xxHash and its length, which
 * for a lexicon of 10^5 keys leaves a false match at odds of ~1e-14 per
 * lookup).  sl_put drops it again.  Returns TM_OK or TM_ENOMEM (the slower
 * loading index keeps working then). */
int sl_freeze(sl_lexicon_t *lx);

/* The Bloom bit of a hash: bits 20..38, apart from the slot (low) and tag (high) bits. */
#define SL_BLOOM_BITS (1u << 19)
static inline size_t sl_bloom_bit(uint64_t h) { return (size_t)(h >> 20) & (SL_BLOOM_BITS - 1); }

/* Start loading the cache lines a lookup of hash h will read (the
 * tokenizer looks words up a few tokens later, so lookups do not wait on
 * memory one after another). */
static inline void sl__prefetch1(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    /* GCC 12 drops __builtin_prefetch here after inlining; volatile asm stays. */
    __asm__ __volatile__("prefetcht0 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p);
#endif
}
static inline void sl_prefetch(const sl_lexicon_t *lx, uint64_t h)
{
    if (lx->flat != NULL) /* (the deferred lookup probes it without the Bloom test) */
        sl__prefetch1(&lx->flat[(size_t)h & lx->flat_mask]);
}

/* The hash of a key: XXH3-64 with seed 0, the value XXH3_64bits gives.
 * Every token is hashed and nearly all are at most 16 bytes: for those, the
 * header's own short-input path (what XXH3_64bits calls for them, with the
 * default secret and seed 0) inlined here, without the call and the length
 * dispatch of the whole function. */
__attribute__((always_inline)) static inline uint64_t sl_hash(const char *key, size_t len)
{
    if (len <= 16)
        return XXH3_len_0to16_64b((const xxh_u8 *)key, len, XXH3_kSecret, 0);
    return XXH3_64bits(key, len);
}

/* The phrase-pair filter (see sl_lexicon.pairs): 0 when no phrase starts
 * with the words whose hashes are h1 and h2; 1 when one may. */
#define SL_PAIR_BITS (1u << 16)
static inline size_t sl_pair_bit(uint64_t h1, uint64_t h2)
{
    return (size_t)(((h1 * 0x9E3779B97F4A7C15ull + h2) * 0xC2B2AE3D27D4EB4Full) >> 48);
}
static inline int sl_pair_maybe(const sl_lexicon_t *lx, uint64_t h1, uint64_t h2)
{
    if (lx->pairs == NULL)
        return 1;
    size_t bit = sl_pair_bit(h1, h2);
    return (int)((lx->pairs[bit >> 6] >> (bit & 63)) & 1);
}

#define SL_ENDS_MAXLEN 12
static inline int sl__ends_bit(const sl_lexicon_t *lx, unsigned char c0, unsigned char c1)
{
    size_t bit = (size_t)c0 << 8 | c1;
    return (int)((lx->ends[bit >> 6] >> (bit & 63)) & 1);
}
/* 0 when no key of the filter (see sl_lexicon.ends) starts with c0 and ends
 * with c1, neither as given nor with A-Z lower-cased; 1 when one may. */
static inline int sl_ends_maybe(const sl_lexicon_t *lx, unsigned char c0, unsigned char c1)
{
    if (lx->ends == NULL)
        return 1;
    unsigned char l0 = (unsigned char)(c0 >= 'A' && c0 <= 'Z' ? c0 + 32 : c0);
    unsigned char l1 = (unsigned char)(c1 >= 'A' && c1 <= 'Z' ? c1 + 32 : c1);
    return sl__ends_bit(lx, c0, c1) || sl__ends_bit(lx, l0, l1);
}

/* Look a key up (exact bytes).  NULL when absent. */
const sl_entry_t *sl_get(const sl_lexicon_t *lx, const char *key, size_t len);
/* The loading index's lookup (before sl_freeze, or when it failed). */
const sl_entry_t *sl__get_loading(const sl_lexicon_t *lx, uint64_t h, const char *key, size_t len);
/* Inline: the tokenizer looks every token up.  The Bloom filter answers
 * most unknown words; then the frozen table's probe. */
static inline const sl_entry_t *sl_get_hashed(const sl_lexicon_t *lx, uint64_t h, const char *key,
                                              size_t len)
{
    size_t bit = sl_bloom_bit(h);
    if (!(lx->bloom[bit >> 6] & (1ull << (bit & 63))))
        return NULL;
    if (lx->flat == NULL)
        return sl__get_loading(lx, h, key, len);
    for (size_t i = (size_t)h & lx->flat_mask;; i = (i + 1) & lx->flat_mask) {
        const sl_slot_t *sl = &lx->flat[i];
        if (sl->e.key_len == 0)
            return NULL;
        if (sl->hash == h && sl->e.key_len == len)
            return &sl->e;
    }
}
/* The frozen table's probe alone (lx->flat must be set; sl_probe takes
 * the table and its mask, for a caller that keeps them in locals): for a key whose
 * slot was prefetched (the tokenizer's deferred lookups, where most words
 * are in the table and the Bloom test rarely saves a probe). */
static inline const sl_entry_t *sl_probe(const sl_slot_t *flat, size_t mask, uint64_t h, size_t len)
{
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const sl_slot_t *sl = &flat[i];
        if (sl->e.key_len == 0)
            return NULL;
        if (sl->hash == h && sl->e.key_len == len)
            return &sl->e;
    }
}
static inline const sl_entry_t *sl_get_flat(const sl_lexicon_t *lx, uint64_t h, size_t len)
{
    return sl_probe(lx->flat, lx->flat_mask, h, len);
}
/* Get-or-insert; NULL on out of memory.  The pointer is valid until the
 * next sl_put (entries move when the table grows). */
sl_entry_t *sl_put(sl_lexicon_t *lx, const char *key, size_t len);
static inline const char *sl_key(const sl_lexicon_t *lx, const sl_entry_t *e)
{
    return lx->keys + e->key_off;
}

/* Loaders.  Each reports a malformed line as "FILE:LINE: what is wrong"
 * through err (code "lexicon_invalid") and returns TM_EINVAL; an unreadable
 * file gives "lexicon_unreadable" and TM_EIO. */
/* VADER format: TOKEN <TAB> MEAN [<TAB> ...]; a TOKEN with spaces is a phrase. */
int sl_load_valences(sl_lexicon_t *lx, const char *path, tm_err_t *err);
/* EMOJI <TAB> description */
int sl_load_emoji(sl_lexicon_t *lx, const char *path, tm_err_t *err);
/* The rules/names format: KIND <TAB> WORD OR PHRASE [<TAB> VALUE]; '#' comments. */
int sl_load_rules(sl_lexicon_t *lx, const char *path, tm_err_t *err);

/* Learned valences: same format as sl_load_valences, stored apart (SL_LEARNED). */
int sl_load_learned(sl_lexicon_t *lx, const char *path, tm_err_t *err);

/* Give inflected forms of lexicon words ("deaths", "sensibly", "loved") the
 * valence of their base word, unless the form is known already.  Returns
 * TM_OK or TM_ENOMEM. */
/* "un" + a positive lexicon word the lexicon lacks ("unfunny", "unconvincing")
 * gets the word's valence times scalar (0: none). */
int sl_derive_un(sl_lexicon_t *lx, double scalar);
int sl_derive_inflections(sl_lexicon_t *lx);

#define SL_EMOJI_FIRST_CPS 0x20000
/* 1 when no emoji key starts with code point cp (sl_emoji_match finds no
 * emoji at a text that starts with it: a key that is a prefix of the text
 * starts with its first code point); 0 when one may. */
static inline int sl_emoji_never_starts(const sl_lexicon_t *lx, int32_t cp)
{
    if (lx->emoji_count == 0)
        return 1;
    return lx->emoji_first != NULL && !lx->emoji_first_other && cp >= 0 &&
           cp < SL_EMOJI_FIRST_CPS && !((lx->emoji_first[(size_t)cp >> 6] >> (cp & 63)) & 1);
}
/* Emoji lookup: the longest emoji key that is a prefix of s[0..len).
 * Returns the emoji or NULL; *used gets the key length in bytes. */
const sl_emoji_t *sl_emoji_match(const sl_lexicon_t *lx, const char *s, size_t len, size_t *used);
static inline const char *sl_emoji_word(const sl_lexicon_t *lx, const sl_emoji_t *e, unsigned i,
                                        size_t *len)
{
    const uint32_t *w = lx->ewords + 2 * ((size_t)e->words_off + i);
    *len = w[1];
    return lx->keys + w[0];
}

#endif
