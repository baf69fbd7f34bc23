/*
 * Seal L2 model: the ratchet's delivery machine (spec §envelope.ratchet, §envelope.open,
 * §offline) in Promela.
 *
 * One sender sends N messages over chains (a new chain is a DH ratchet step carrying the
 * previous chain's length, pn). The adversary owns the network: it reorders, drops, replays
 * every message (each delivered up to MAX_DELIVERIES times) and injects forged messages, which
 * no one sent: any header (chain, counter, pn) within the bounds, with a ciphertext it made
 * without the message key, so its authentication tag does not verify. The receiver follows
 * ratchetDecrypt: a re-delivery of an opened message is a duplicate (the session remembers a
 * hash of every opened message); otherwise the message key is looked up among the stored
 * skipped keys or derived along the chain (at most MAX_SKIP skipped per message, at most
 * MAX_STORED stored, oldest evicted), and the message opens only if its tag verifies under that
 * key; a message that fails changes no state (envelope.open-transactional); used keys are
 * deleted.
 *
 * Properties (each has a sanity witness that must be reached and a mutant that must be caught;
 * test/model.spin.test.ts runs them all):
 *   P1 no message is accepted twice (assertion in accept)
 *      sanity  SANITY == 1: a replay of an opened message reaches the receiver (a duplicate)
 *      mutant  MUTANT == 1: the receiver forgets what it opened and keeps used skipped keys
 *   P2 only sent messages are accepted (assertion in accept)
 *      sanity  SANITY == 2: a forged message reaches the tag check under a key the receiver
 *              holds or derives, and is rejected
 *      mutant  MUTANT == 2: the receiver opens a message under a stored skipped key without
 *              checking its tag
 *   P3 the store never holds more than MAX_STORED skipped keys (assertion after every step,
 *      counting the stored keys themselves, not the FIFO's length counter)
 *      sanity  SANITY == 3: the store is full and a further key evicts the oldest
 *      mutant  MUTANT == 3: the receiver never evicts
 *   P4 (liveness, LTL all_opened, with -DFAIR: no drops, no forgeries, reordering within
 *      MAX_SKIP) every message is eventually opened
 *      sanity  SANITY == 4 with -DFAIR: a message opens under a stored skipped key (the fair
 *              network does reorder)
 *      mutant  MUTANT == 4: the receiver skips ahead without storing the skipped keys
 *
 * Sizes: N messages over CHAINS chains (defaults 6 and 3: the always-on configuration, a few
 * million states); -DN=7 is the larger search (about 51 million states, compiled with
 * -DCOLLAPSE), which test/model.spin.test.ts runs when SEAL_SPIN_FULL=1. Eviction needs N >= 6.
 */
#ifndef N
#define N          6          /* the FAIR network below has one guard per message, up to 7 */
#endif
#define CHAINS     3
/*
 * The bounds, scaled down from the spec's (§envelope.constants: MAX_SKIP 1000,
 * MAX_SKIPPED_KEYS 2000) so that the search is exhaustive. test/model.spin.test.ts checks that they
 * keep the spec's relation MAX_SKIP < MAX_STORED <= (MAX_SKIPPED_KEYS / MAX_SKIP) * MAX_SKIP, and
 * MAX_STORED sits below the upper end so that eviction is reachable with N messages (the
 * SANITY == 3 run proves it is reached).
 */
#define MAX_SKIP   2
#define MAX_STORED 3
#ifndef MAX_DELIVERIES
#define MAX_DELIVERIES 2      /* each message delivered at most twice: once and one replay */
#endif
#define FORGED     N          /* the index of a forged message: no one sent it */

#ifndef SANITY
#define SANITY 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif

#if MUTANT == 3
#define STORE_CAP  (CHAINS * N)   /* the mutant never evicts: room for every key */
#else
#define STORE_CAP  MAX_STORED
#endif

byte chainOf[N];       /* chain of message i */
byte counterOf[N];     /* position of message i in its chain */
byte pnOf[N];          /* length of the previous chain when message i was sent */
bool sent[N + 1];      /* ground truth: message i was sent (never the forged slot N) */
byte deliveries[N];    /* how often the network delivered message i */
bool opened[N + 1];    /* ground truth: message i was accepted */
bool seenChain[CHAINS];  /* some message of this chain has reached the receiver */
byte openedCount = 0;

/* receiver state */
byte cur = 255;        /* current receiving chain; 255 = none yet */
byte nr = 0;           /* next expected counter in the current chain */
byte stored = 0;       /* number of stored skipped keys (the FIFO's length) */
bool skippedKey[CHAINS * N];   /* (chain, counter) -> stored */
byte storeOrder[STORE_CAP];    /* FIFO of stored keys, as chain * N + counter */
byte shiftAt = 0;              /* loop index of the FIFO shift (always 0 between steps) */
byte countAt = 0;              /* loop indexes of the bound check (always 0 between steps) */
byte heldKeys = 0;

/* the receiver stores the skipped key (c, n), evicting the oldest when the store is full */
inline store(c, n) {
#if MUTANT == 4
  skip    /* mutant: the skipped key is not stored, so a reordered message can never open */
#else
  if
#if MUTANT != 3
  :: stored == MAX_STORED ->
       printf("store full: evict the oldest key\n");
#if SANITY == 3
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
#endif
  :: else -> skip
  fi;
  storeOrder[stored] = c * N + n; skippedKey[c * N + n] = true; stored++
#endif
}

inline unstore(k) {
  j = 0; found = false;
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
  fi;
  j = 0; found = false
}

/* P3, counted on the keys the receiver holds, independently of `stored` */
inline checkStoreBound() {
  d_step {
    heldKeys = 0; countAt = 0;
    do
    :: countAt < CHAINS * N -> if :: skippedKey[countAt] -> heldKeys++ :: else -> skip fi; countAt++
    :: else -> break
    od;
    assert(heldKeys <= MAX_STORED);
    heldKeys = 0; countAt = 0
  }
}

/* P1 and P2: the application receives message i */
inline accept(i, c, n) {
  if
  :: i == FORGED -> printf("accept a forged message (chain %d, counter %d)\n", c, n)
  :: else -> printf("accept m%d\n", i)
  fi;
  assert(sent[i] && !opened[i]);     /* only sent messages, never twice */
  opened[i] = true; openedCount++
}

/* The tag check under the message key: a sent message verifies, a forged one does not. */
#if MUTANT == 1
#define OPENED(i) false               /* mutant: the receiver forgets what it opened ... */
#define USED_KEY(k) skip              /* ... and keeps a used skipped key */
#else
#define OPENED(i) opened[i]           /* the session's memory of opened messages (their hashes) */
#define USED_KEY(k) unstore(k)        /* a used key is deleted */
#endif
#if MUTANT == 2
#define TAG_OK_SKIPPED(authentic) true   /* mutant: a stored skipped key opens without the tag check */
#else
#define TAG_OK_SKIPPED(authentic) authentic
#endif
#define TAG_OK(authentic) authentic

#if SANITY == 2
#define FORGERY_REJECTED printf("forged message (chain %d, counter %d, pn %d) rejected at the tag check\n", c, n, pn); assert(false)   /* sanity: a forgery reached the tag check and failed */
#else
#define FORGERY_REJECTED skip
#endif

/*
 * ratchetDecrypt on message i with header (c, n, pn); `authentic` says whether its tag verifies
 * under the message key of (c, n) (true exactly for a sent message). Every branch that rejects
 * leaves the receiver's state unchanged; the key derivations of an accepting branch are done
 * only once the tag verified, which is what the transactional open of the spec amounts to.
 */
inline receive(i, c, n, pn, authentic) {
  if
  :: OPENED(i) ->                                         /* re-delivery: duplicate */
       printf("duplicate m%d\n", i);
#if SANITY == 1
       assert(false);   /* sanity: a replay of an opened message was recognised */
#endif
       skip
  :: !OPENED(i) && skippedKey[c * N + n] && TAG_OK_SKIPPED(authentic) ->
#if SANITY == 4
       assert(false);   /* sanity: a reordered message opened under a stored skipped key */
#endif
       USED_KEY(c * N + n); accept(i, c, n)
  :: !OPENED(i) && skippedKey[c * N + n] && !TAG_OK_SKIPPED(authentic) -> FORGERY_REJECTED   /* authentication-failed, key kept */
  :: !OPENED(i) && !skippedKey[c * N + n] && cur == c && n < nr -> skip   /* message-key-unavailable */
  :: !OPENED(i) && !skippedKey[c * N + n] && cur == c && n >= nr && n - nr <= MAX_SKIP ->
       if
       :: TAG_OK(authentic) ->
            do :: nr < n -> store(c, nr); nr++ :: else -> break od;
            nr = n + 1; accept(i, c, n)
       :: else -> FORGERY_REJECTED                                        /* authentication-failed */
       fi
  :: !OPENED(i) && !skippedKey[c * N + n] && cur == c && n >= nr && n - nr > MAX_SKIP -> skip  /* skip-limit */
  :: !OPENED(i) && !skippedKey[c * N + n] && (cur == 255 || c > cur) ->
       if
       :: cur != 255 && pn > nr && pn - nr > MAX_SKIP -> skip          /* skip-limit */
       :: n > MAX_SKIP -> skip                                          /* skip-limit */
       :: else ->
            if
            :: TAG_OK(authentic) ->
                 if :: cur != 255 -> do :: nr < pn -> store(cur, nr); nr++ :: else -> break od :: else -> skip fi;
                 cur = c; nr = 0;
                 do :: nr < n -> store(c, nr); nr++ :: else -> break od;
                 nr = n + 1; accept(i, c, n)
            :: else -> FORGERY_REJECTED                                 /* authentication-failed */
            fi
       fi
  :: !OPENED(i) && !skippedKey[c * N + n] && cur != 255 && c < cur -> skip      /* old chain, key gone */
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
  od;
  s = 0; chain = 0; count = 0; previous = 0
}

/* A genuine delivery of message m by the FAIR network. */
#define FAIR_GUARD(m) (deliveries[m] == 0 && (m < MAX_SKIP || deliveries[m - MAX_SKIP] > 0) && (chainOf[m] == 0 || seenChain[chainOf[m] - 1]))
#define FAIR_DELIVER(m) printf("deliver m%d (chain %d, counter %d, pn %d)\n", m, chainOf[m], counterOf[m], pnOf[m]); deliveries[m]++; delivered++; seenChain[chainOf[m]] = true; atomic { receive(m, chainOf[m], counterOf[m], pnOf[m], sent[m]) }

active proctype network() {
  byte i;
  byte j = 0; bool found = false;        /* unstore's loop state (always 0 between steps) */
  send();
#ifdef FAIR
  /* Every message delivered once, in any order in which no message overtakes one sent MAX_SKIP
   * or more before it (reordering within the bounds), and causally: a message of chain c + 1
   * exists only because the receiver answered a message of chain c (a DH ratchet step needs the
   * peer's new ratchet key), so one of those has reached it. One guard per message, so every
   * step makes progress. No forgeries: a network that only injects would trivially starve the
   * receiver, and the safety runs show that a forgery changes nothing. */
  byte delivered = 0;
  do
  :: FAIR_GUARD(0) -> FAIR_DELIVER(0)
  :: FAIR_GUARD(1) -> FAIR_DELIVER(1)
  :: FAIR_GUARD(2) -> FAIR_DELIVER(2)
  :: FAIR_GUARD(3) -> FAIR_DELIVER(3)
#if N > 4
  :: FAIR_GUARD(4) -> FAIR_DELIVER(4)
#endif
#if N > 5
  :: FAIR_GUARD(5) -> FAIR_DELIVER(5)
#endif
#if N > 6
  :: FAIR_GUARD(6) -> FAIR_DELIVER(6)
#endif
  :: delivered == N -> break
  od
#else
  /* Any order, any message up to MAX_DELIVERIES times (replays), forgeries at any time, and
   * the network may stop at any time (everything still in flight is dropped). */
  byte fc = 0; byte fn = 0; byte fpn = 0;
  do
  :: select(i : 0 .. N - 1);
     if
     :: sent[i] && deliveries[i] < MAX_DELIVERIES ->
          printf("deliver m%d (chain %d, counter %d, pn %d)\n", i, chainOf[i], counterOf[i], pnOf[i]);
          deliveries[i]++; atomic { receive(i, chainOf[i], counterOf[i], pnOf[i], sent[i]); checkStoreBound() }
     :: else -> skip
     fi;
     i = 0
  :: /* A forged message: every header within the bounds (any chain, counter and pn up to
      * MAX_SKIP + 1, beyond which every header is a skip-limit), each injected in turn. A
      * forgery that the receiver rejects changes nothing, so one step injects them all; a
      * forgery that it accepts fails P2 there and then. */
     d_step {
       fc = 0;
       do
       :: fc < CHAINS ->
            fn = 0;
            do
            :: fn <= MAX_SKIP + 1 ->
                 fpn = 0;
                 do
                 :: fpn <= MAX_SKIP + 1 -> receive(FORGED, fc, fn, fpn, false); fpn++
                 :: else -> break
                 od;
                 fn++
            :: else -> break
            od;
            fc++
       :: else -> break
       od;
       fc = 0; fn = 0; fpn = 0
     };
     checkStoreBound()
  :: true -> break
  od
#endif
}

#ifdef FAIR
ltl all_opened { <> (openedCount == N) }
#endif
