/* SPDX-License-Identifier: MIT */
/*
 * cpu_crypto.c: DIGEST (sha256, sha512) and AEAD (aes-256-gcm,
 * chacha20-poly1305) for the CPU engine, with OpenSSL 3 EVP.
 *
 * The algorithms are fetched once per engine (explicit fetch avoids a
 * provider lookup per operation).  Each execution context keeps one digest
 * context and one cipher context per AEAD algorithm, re-initialised per job
 * (EVP_*Init_ex2 with a NULL algorithm keeps the provider context, so
 * nothing is allocated per job).  Both EVP calls stream, so operands are
 * walked piece by piece with no bounce buffer.
 *
 * Input is read in place because nothing here parses it: every length
 * comes from the request, so a guest that rewrites src while a job runs
 * changes only its own result.  Two effects of that stay the guest's own
 * business (docs/security.md): decryption writes plaintext into dst before
 * the tag is checked (and zeroes it on a mismatch), and libcrypto's GCM
 * reads each chunk of ciphertext once to hash it and again to decrypt it,
 * so ciphertext changed in between gives a response for plaintext the tag
 * did not cover.  Decrypting into a private buffer first would cost 20-30%
 * of decryption's speed (docs/performance.md).
 *
 * Sessions: an AEAD session holds its 32-byte key (wiped on destroy); a
 * digest session holds a running EVP_MD_CTX, fed by DIGEST requests with
 * VACCEL_DIGEST_F_MORE and finished (then reset) by one without it.
 *
 * AEAD key cache: expanding a key (AES key schedule and GHASH table) costs
 * more than sealing 64 bytes, so a cipher context remembers which session's
 * key it holds, by the session's serial (unique for the process's life, so
 * a new session at a freed one's address never matches), and a job of that
 * session sets only nonce and direction.  Any failed job forgets the key.
 * The expanded key of a destroyed session stays in the contexts that used
 * it until they are re-keyed or freed, as it did before the cache.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "accelif.h"
#include "backend/engines/cpu_internal.h"
#include "backend/engines/cpu_iter.h"

/* EVP takes int lengths: feed at most this much per call. */
#define CPU_EVP_CHUNK ((size_t)1 << 30)

/* Session serials; 0 means "no key" in struct cpu_wctx.aead_serial. */
static atomic_uint_fast64_t cpu_session_serials;

int cpu_algs_init(struct cpu_algs *a)
{
    memset(a, 0, sizeof(*a));
    a->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    a->sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    a->aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    a->chacha_poly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    if (!a->sha256 || !a->sha512 || !a->aes_gcm || !a->chacha_poly) {
        cpu_algs_fini(a);
        return -XEN_EOPNOTSUPP;
    }
    return 0;
}

void cpu_algs_fini(struct cpu_algs *a)
{
    EVP_MD_free(a->sha256);
    EVP_MD_free(a->sha512);
    EVP_CIPHER_free(a->aes_gcm);
    EVP_CIPHER_free(a->chacha_poly);
    memset(a, 0, sizeof(*a));
}

void cpu_crypto_wctx_fini(struct cpu_wctx *w)
{
    EVP_MD_CTX_free(w->md);
    w->md = NULL;
    for (unsigned int i = 0; i < 2; i++) {
        EVP_CIPHER_CTX_free(w->aead[i]);
        w->aead[i] = NULL;
        w->aead_serial[i] = 0;
    }
}

static const EVP_MD *cpu_md(const struct cpu_algs *a, uint8_t alg)
{
    return alg == VACCEL_ALG_SHA256 ? a->sha256 : a->sha512;
}

/* ------------------------------------------------------------------------
 * Sessions
 */

int cpu_session_init(const struct cpu_algs *a, struct pva_engine_session *s,
                     const uint8_t *key, size_t key_len)
{
    s->serial = atomic_fetch_add_explicit(&cpu_session_serials, 1,
                                          memory_order_relaxed) + 1;
    if (VACCEL_ALG_IS_AEAD(s->alg)) {
        if (!key || key_len != VACCEL_AEAD_KEY_LEN)
            return -XEN_EINVAL;
        memcpy(s->key, key, VACCEL_AEAD_KEY_LEN);
        return 0;
    }
    if (key_len)
        return -XEN_EINVAL;
    s->md = EVP_MD_CTX_new();
    if (!s->md)
        return -XEN_ENOMEM;
    if (!EVP_DigestInit_ex2(s->md, cpu_md(a, s->alg), NULL)) {
        EVP_MD_CTX_free(s->md);
        s->md = NULL;
        return -XEN_ENOMEM;
    }
    return 0;
}

void cpu_session_fini(struct pva_engine_session *s)
{
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
    OPENSSL_cleanse(s->key, sizeof(s->key));
}

/* ------------------------------------------------------------------------
 * DIGEST
 */

static int cpu_digest_absorb(EVP_MD_CTX *md, const struct pva_operand *src)
{
    struct cpu_iter it;
    uint8_t *p;
    size_t n;

    cpu_iter_init(&it, src);
    while ((n = cpu_iter_peek(&it, &p))) {
        if (!EVP_DigestUpdate(md, p, n))
            return -XEN_EIO;
        cpu_iter_advance(&it, n);
    }
    return 0;
}

/* Finish @md into the start of dst; the caller checked the room. */
static int cpu_digest_finish(EVP_MD_CTX *md, struct pva_job *job)
{
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    struct cpu_iter d;

    if (!EVP_DigestFinal_ex(md, out, &n))
        return -XEN_EIO;
    cpu_iter_init(&d, &job->dst);
    job->len = cpu_iter_write(&d, out, n);
    OPENSSL_cleanse(out, sizeof(out));
    return 0;
}

static int cpu_digest_session(struct pva_engine_session *s,
                              struct pva_job *job)
{
    bool more = job->flags & VACCEL_DIGEST_F_MORE;
    int rc;

    if (!s->md || s->alg != job->alg)
        return -XEN_EINVAL;
    /* The protocol allows one request per session in flight. */
    if (atomic_exchange(&s->busy, true))
        return -XEN_EBUSY;
    rc = cpu_digest_absorb(s->md, &job->src);
    if (!rc && !more) {
        rc = cpu_digest_finish(s->md, job);
        /* Ready for the next message, whatever happened. */
        if (!EVP_DigestInit_ex2(s->md, NULL, NULL) && !rc)
            rc = -XEN_EIO;
    }
    atomic_store(&s->busy, false);
    return rc;
}

/*
 * OpenSSL 3.0 frees and re-creates the provider's digest state (about 100
 * bytes) in every EVP_DigestInit_ex2, so this is the one place a job costs
 * an allocation, inside libcrypto; EVP offers no reset that avoids it.
 */
static int cpu_digest_oneshot(struct cpu_wctx *w, struct pva_job *job)
{
    int rc;

    if (!w->md) {
        w->md = EVP_MD_CTX_new();
        if (!w->md)
            return -XEN_ENOMEM;
    }
    if (!EVP_DigestInit_ex2(w->md, cpu_md(w->algs, job->alg), NULL))
        return -XEN_EIO;
    rc = cpu_digest_absorb(w->md, &job->src);
    return rc ? rc : cpu_digest_finish(w->md, job);
}

int cpu_digest(struct cpu_wctx *w, struct pva_job *job)
{
    bool more = job->flags & VACCEL_DIGEST_F_MORE;
    size_t size = job->alg == VACCEL_ALG_SHA256 ? VACCEL_SHA256_LEN
                                                : VACCEL_SHA512_LEN;

    if (!VACCEL_ALG_IS_DIGEST(job->alg))
        return -XEN_EOPNOTSUPP;
    if (more && (!job->session || job->dst.len))
        return -XEN_EINVAL;
    /* Refuse before absorbing anything: a session keeps its state. */
    if (!more && job->dst.len < size) {
        job->aux = size;
        return -XEN_ENOSPC;
    }
    if (job->session)
        return cpu_digest_session(job->session, job);
    return cpu_digest_oneshot(w, job);
}

/* ------------------------------------------------------------------------
 * AEAD
 */

static unsigned int cpu_aead_index(uint8_t alg)
{
    return alg == VACCEL_ALG_AES_256_GCM ? 0 : 1;
}

/* The context for @alg, created (with its algorithm) on first use. */
static EVP_CIPHER_CTX *cpu_aead_ctx(struct cpu_wctx *w, uint8_t alg)
{
    unsigned int i = cpu_aead_index(alg);
    EVP_CIPHER *c = i == 0 ? w->algs->aes_gcm : w->algs->chacha_poly;

    if (!w->aead[i]) {
        w->aead_serial[i] = 0;
        w->aead[i] = EVP_CIPHER_CTX_new();
        if (!w->aead[i])
            return NULL;
        if (!EVP_CipherInit_ex2(w->aead[i], c, NULL, NULL, 1, NULL)) {
            EVP_CIPHER_CTX_free(w->aead[i]);
            w->aead[i] = NULL;
        }
    }
    return w->aead[i];
}

static int cpu_aead_aad(EVP_CIPHER_CTX *c, struct cpu_iter *s, size_t len)
{
    uint8_t *p;
    size_t n;
    int outl;

    while (len && (n = cpu_iter_peek(s, &p))) {
        if (n > len)
            n = len;
        if (n > CPU_EVP_CHUNK)
            n = CPU_EVP_CHUNK;
        if (!EVP_CipherUpdate(c, NULL, &outl, p, (int)n))
            return -XEN_EIO;
        cpu_iter_advance(s, n);
        len -= n;
    }
    return 0;
}

/* Run @len bytes of text from @s to @d; both AEADs output as they go. */
static int cpu_aead_text(EVP_CIPHER_CTX *c, struct cpu_iter *s,
                         struct cpu_iter *d, size_t len)
{
    uint8_t *sp, *dp;
    size_t sn, dn;
    int outl;

    while (len && (sn = cpu_iter_peek(s, &sp)) && (dn = cpu_iter_peek(d, &dp))) {
        size_t n = sn < dn ? sn : dn;

        if (n > len)
            n = len;
        if (n > CPU_EVP_CHUNK)
            n = CPU_EVP_CHUNK;
        if (!EVP_CipherUpdate(c, dp, &outl, sp, (int)n) || outl != (int)n)
            return -XEN_EIO;
        cpu_iter_advance(s, n);
        cpu_iter_advance(d, n);
        len -= n;
    }
    return len ? -XEN_EIO : 0;
}

static int cpu_aead_encrypt(EVP_CIPHER_CTX *c, struct pva_job *job,
                            struct cpu_iter *s, size_t text)
{
    uint8_t tag[VACCEL_AEAD_TAG_LEN];
    struct cpu_iter d;
    int outl, rc;

    if (job->dst.len < text + VACCEL_AEAD_TAG_LEN) {
        job->aux = text + VACCEL_AEAD_TAG_LEN;
        return -XEN_ENOSPC;
    }
    cpu_iter_init(&d, &job->dst);
    rc = cpu_aead_text(c, s, &d, text);
    if (rc)
        return rc;
    if (!EVP_CipherFinal_ex(c, tag, &outl) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, sizeof(tag), tag))
        return -XEN_EIO;
    cpu_iter_write(&d, tag, sizeof(tag));
    job->len = text + VACCEL_AEAD_TAG_LEN;
    return 0;
}

/* Zero @len bytes of dst: no unauthenticated plaintext leaves the engine. */
static void cpu_zero_prefix(const struct pva_operand *dst, size_t len)
{
    struct cpu_iter d;
    uint8_t *p;
    size_t n;

    cpu_iter_init(&d, dst);
    while (len && (n = cpu_iter_peek(&d, &p))) {
        if (n > len)
            n = len;
        memset(p, 0, n);
        cpu_iter_advance(&d, n);
        len -= n;
    }
}

static int cpu_aead_decrypt(EVP_CIPHER_CTX *c, struct pva_job *job,
                            struct cpu_iter *s, size_t text)
{
    uint8_t tag[VACCEL_AEAD_TAG_LEN], last[VACCEL_AEAD_TAG_LEN];
    struct cpu_iter d;
    int outl, rc;

    if (job->dst.len < text) {
        job->aux = text;
        return -XEN_ENOSPC;
    }
    cpu_iter_init(&d, &job->dst);
    rc = cpu_aead_text(c, s, &d, text);
    if (!rc && cpu_iter_read(s, tag, sizeof(tag)) != sizeof(tag))
        rc = -XEN_EIO;
    if (!rc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, sizeof(tag),
                                    tag))
        rc = -XEN_EIO;
    if (!rc && EVP_CipherFinal_ex(c, last, &outl) <= 0)
        rc = -XEN_EBADMSG;
    if (rc)
        cpu_zero_prefix(&job->dst, text);
    else
        job->len = text;
    return rc;
}

int cpu_aead(struct cpu_wctx *w, struct pva_job *job)
{
    struct pva_engine_session *sess = job->session;
    bool enc = job->op == VACCEL_OP_AEAD_ENCRYPT;
    size_t aad = job->param.aead.aad_len, text;
    uint64_t *cached;
    EVP_CIPHER_CTX *c;
    struct cpu_iter s;
    int rc;

    if (!sess || !VACCEL_ALG_IS_AEAD(sess->alg))
        return -XEN_EINVAL;
    if (aad > job->src.len)
        return -XEN_EINVAL;
    text = job->src.len - aad;
    if (!enc) {
        if (text < VACCEL_AEAD_TAG_LEN)
            return -XEN_EINVAL;
        text -= VACCEL_AEAD_TAG_LEN;
    }
    c = cpu_aead_ctx(w, sess->alg);
    if (!c)
        return -XEN_ENOMEM;
    /*
     * Same algorithm: set the nonce and direction, and the key unless the
     * context already holds this session's.  OpenSSL 3's GCM and
     * ChaCha20-Poly1305 take the direction from every init, and a nonce
     * restarts the message (lengths, AAD, tag state) with or without a key.
     */
    cached = &w->aead_serial[cpu_aead_index(sess->alg)];
    if (*cached == sess->serial) {
        rc = EVP_CipherInit_ex2(c, NULL, NULL, job->param.aead.nonce, enc,
                                NULL) ? 0 : -XEN_EIO;
    } else {
        *cached = 0;
        rc = EVP_CipherInit_ex2(c, NULL, sess->key, job->param.aead.nonce,
                                enc, NULL) ? 0 : -XEN_EIO;
    }
    if (!rc) {
        *cached = sess->serial;
        cpu_iter_init(&s, &job->src);
        rc = cpu_aead_aad(c, &s, aad);
    }
    if (!rc)
        rc = enc ? cpu_aead_encrypt(c, job, &s, text)
                 : cpu_aead_decrypt(c, job, &s, text);
    /* A failed job leaves the context mid-message: re-key the next one. */
    if (rc)
        *cached = 0;
    return rc;
}
