/*
 * Seal L2 model: the ratchet's delivery machine (spec §envelope.ratchet, §offline) in Promela.
 *
 * One sender sends N messages over chains (a new chain is a DH ratchet step carrying the
 * previous chain's length, pn). The network may reorder, duplicate and drop. The receiver
 * follows ratchetDecrypt: stored skipped keys, MAX_SKIP per message, at most MAX_STORED stored
 * keys (oldest evicted), used keys deleted, re-deliveries of opened messages reported as
 * duplicates.
 *
 * Safety (assertions, checked in every run): no message is accepted twice; only sent messages
 * are accepted; the store never exceeds MAX_STORED. Liveness (LTL all_opened, with -DFAIR: no
 * drops, reordering within MAX_SKIP): every message is eventually opened. With -DMUTANT the
 * receiver forgets opened messages and keeps used keys, and the safety check must fail.
 */
#define N          6          /* the FAIR network below has one guard per message */
#define CHAINS     3
/*
 * The bounds, scaled down from the spec's (§envelope.constants: MAX_SKIP 1000,
 * MAX_SKIPPED_KEYS 2000) so that the search is exhaustive. test/model.spin.test.ts checks that they
 * keep the spec's relation MAX_SKIP < MAX_STORED <= (MAX_SKIPPED_KEYS / MAX_SKIP) * MAX_SKIP, and
 * MAX_STORED sits below the upper end so that eviction is reachable with N messages (the
 * SANITY_EVICTION run proves it is reached).
 */
#define MAX_SKIP   2
#define MAX_STORED 3

byte chainOf[N];       /* chain of message i */
byte counterOf[N];     /* position of message i in its chain */
byte pnOf[N];          /* length of the previous chain when message i was sent */
bool sent[N];
byte deliveries[N];    /* how often the network delivered message i */
bool opened[N];
bool seenChain[CHAINS];  /* some message of this chain has reached the receiver */
byte openedCount = 0;

/* receiver state */
byte cur = 255;        /* current receiving chain; 255 = none yet */
byte nr = 0;           /* next expected counter in the current chain */
byte stored = 0;       /* number of stored skipped keys */
bool skippedKey[CHAINS * N];   /* (chain, counter) -> stored */
byte storeOrder[MAX_STORED];   /* FIFO of stored keys, as chain * N + counter */
byte shiftAt = 0;              /* loop index of the FIFO shift (always 0 between steps) */

inline store(c, n) {
  if
  :: stored == MAX_STORED ->
#ifdef SANITY_EVICTION
       assert(false);   /* sanity: the bound is reached and the oldest key evicted */
#endif
       skippedKey[storeOrder[0]] = false;
       d_step {
         shiftAt = 0;
         do
         :: shiftAt < MAX_STORED - 1 -> storeOrder[shiftAt] = storeOrder[shiftAt + 1]; shiftAt++
         :: else -> break
         od;
         shiftAt = 0
       };
       stored--
  :: else -> skip
  fi;
  storeOrder[stored] = c * N + n; skippedKey[c * N + n] = true; stored++;
  assert(stored <= MAX_STORED)
}

inline unstore(k) {
  byte j = 0; bool found = false;
  do
  :: j < stored && !found -> if :: storeOrder[j] == k -> found = true :: else -> j++ fi
  :: j >= stored || found -> break
  od;
  if
  :: found ->
       do
       :: j + 1 < stored -> storeOrder[j] = storeOrder[j + 1]; j++
       :: else -> break
       od;
       stored--; skippedKey[k] = false
  :: else -> skip
  fi
}

inline accept(i) {
  assert(sent[i] && !opened[i]);     /* only sent messages, never twice */
  opened[i] = true; openedCount++
}

/* ratchetDecrypt on message i; rejects leave the state unchanged */
inline receive(i) {
  byte c = chainOf[i]; byte n = counterOf[i];
  if
#ifdef MUTANT
  /* A broken receiver: it forgets what it opened and keeps used skipped keys. */
  :: skippedKey[c * N + n] -> accept(i)
  :: false -> skip
#else
  :: opened[i] -> skip                                  /* re-delivery: duplicate */
  :: !opened[i] && skippedKey[c * N + n] -> unstore(c * N + n); accept(i)
#endif
  :: !opened[i] && !skippedKey[c * N + n] && cur == c && n < nr -> skip   /* key no longer held */
  :: !opened[i] && !skippedKey[c * N + n] && cur == c && n >= nr && n - nr <= MAX_SKIP ->
       do :: nr < n -> store(c, nr); nr++ :: else -> break od;
       nr = n + 1; accept(i)
  :: !opened[i] && !skippedKey[c * N + n] && cur == c && n >= nr && n - nr > MAX_SKIP -> skip  /* skip-limit */
  :: !opened[i] && !skippedKey[c * N + n] && (cur == 255 || c > cur) ->
       if
       :: cur != 255 && pnOf[i] > nr && pnOf[i] - nr > MAX_SKIP -> skip          /* skip-limit */
       :: n > MAX_SKIP -> skip                                                      /* skip-limit */
       :: else ->
            if :: cur != 255 -> do :: nr < pnOf[i] -> store(cur, nr); nr++ :: else -> break od :: else -> skip fi;
            cur = c; nr = 0;
            do :: nr < n -> store(c, nr); nr++ :: else -> break od;
            nr = n + 1; accept(i)
       fi
  :: !opened[i] && !skippedKey[c * N + n] && cur != 255 && c < cur -> skip      /* old chain, key gone */
  fi
}

/* The sender's choices (where DH ratchet steps fall) are made first: the order of sending does
 * not matter to the receiver, only the order of delivery, which the network chooses. */
inline send() {
  byte s = 0; byte chain = 0; byte count = 0; byte previous = 0;
  do
  :: s < N ->
       if
       :: count > 0 && chain + 1 < CHAINS -> previous = count; chain++; count = 0   /* DH ratchet step */
       :: true -> skip
       fi;
       chainOf[s] = chain; counterOf[s] = count; pnOf[s] = previous; count++;
       sent[s] = true; s++
  :: s == N -> break
  od
}

active proctype network() {
  byte i;
  send();
#ifdef FAIR
  /* Every message delivered once, in any order in which no message overtakes one sent MAX_SKIP
   * or more before it (reordering within the bounds), and causally: a message of chain c + 1
   * exists only because the receiver answered a message of chain c (a DH ratchet step needs the
   * peer's new ratchet key), so one of those has reached it. One guard per message (N = 6), so
   * every step makes progress. */
  byte delivered = 0;
  do
  :: deliveries[0] == 0 && (0 < MAX_SKIP || deliveries[0 - MAX_SKIP] > 0) && (chainOf[0] == 0 || seenChain[chainOf[0] - 1]) ->
       deliveries[0]++; delivered++; seenChain[chainOf[0]] = true; atomic { receive(0) }
  :: deliveries[1] == 0 && (1 < MAX_SKIP || deliveries[1 - MAX_SKIP] > 0) && (chainOf[1] == 0 || seenChain[chainOf[1] - 1]) ->
       deliveries[1]++; delivered++; seenChain[chainOf[1]] = true; atomic { receive(1) }
  :: deliveries[2] == 0 && (2 < MAX_SKIP || deliveries[2 - MAX_SKIP] > 0) && (chainOf[2] == 0 || seenChain[chainOf[2] - 1]) ->
       deliveries[2]++; delivered++; seenChain[chainOf[2]] = true; atomic { receive(2) }
  :: deliveries[3] == 0 && (3 < MAX_SKIP || deliveries[3 - MAX_SKIP] > 0) && (chainOf[3] == 0 || seenChain[chainOf[3] - 1]) ->
       deliveries[3]++; delivered++; seenChain[chainOf[3]] = true; atomic { receive(3) }
  :: deliveries[4] == 0 && (4 < MAX_SKIP || deliveries[4 - MAX_SKIP] > 0) && (chainOf[4] == 0 || seenChain[chainOf[4] - 1]) ->
       deliveries[4]++; delivered++; seenChain[chainOf[4]] = true; atomic { receive(4) }
  :: deliveries[5] == 0 && (5 < MAX_SKIP || deliveries[5 - MAX_SKIP] > 0) && (chainOf[5] == 0 || seenChain[chainOf[5] - 1]) ->
       deliveries[5]++; delivered++; seenChain[chainOf[5]] = true; atomic { receive(5) }
  :: delivered == N -> break
  od
#else
  /* Any order, any message up to twice (a duplicate), and the network may stop at any time
   * (everything still in flight is dropped). */
  do
  :: select(i : 0 .. N - 1);
     if
     :: sent[i] && deliveries[i] < 2 -> deliveries[i]++; atomic { receive(i) }
     :: else -> skip
     fi
  :: true -> break
  od
#endif
}

#ifdef FAIR
ltl all_opened { <> (openedCount == N) }
#endif
