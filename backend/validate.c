/* SPDX-License-Identifier: MIT */
/*
 * validate.c: checks of a request that need no memory lookup.
 *
 * Runs on the backend's private copy of the request (RING_COPY_REQUEST),
 * never on the shared slot.  Reserved fields, unused header fields, unused
 * operand slots and undefined flag bits must be zero (-XEN_EINVAL), so a
 * version 1 frontend can never trigger an extension by accident.
 */
#include "config.h"

#include <string.h>

#include "backend/pvacceld.h"

/*
 * The source bytes a COMPRESS at a level may take so that it costs at most
 * @max_op_ms of one engine unit, by the engine's estimate.
 */
static void offer_cost_caps(struct pvad_offer *o,
                            const struct pva_engine_caps *caps,
                            uint32_t max_op_ms)
{
    for (unsigned int a = 0; a <= VACCEL_ALG_LZ4; a++)
        for (unsigned int l = 0; l <= PVA_COST_LEVEL_MAX; l++) {
            uint64_t us = caps->compress_us_per_mib[a][l];

            o->compress_max_src[a][l] = UINT64_MAX;
            if (max_op_ms && us && (o->compress_algs & PVA_ALG_BIT(a)))
                o->compress_max_src[a][l] =
                    ((uint64_t)max_op_ms * 1000u << 20) / us;
        }
}

void pvad_offer_from_caps(struct pvad_offer *o,
                          const struct pva_engine_caps *caps,
                          uint32_t max_op_ms)
{
    memset(o, 0, sizeof(*o));
    /* Only codes of the right family: level tables are indexed by alg. */
    for (unsigned int a = 0; a < 64; a++) {
        pva_alg_mask bit = PVA_ALG_BIT(a);

        if (VACCEL_ALG_IS_COMPRESS(a))
            o->compress_algs |= caps->compress_algs & bit;
        if (VACCEL_ALG_IS_DIGEST(a))
            o->digest_algs |= caps->digest_algs & bit;
        if (VACCEL_ALG_IS_AEAD(a))
            o->aead_algs |= caps->aead_algs & bit;
    }
    o->copy = caps->copy;
    o->fill = caps->fill;
    o->compare = caps->compare;
    o->crc32c = caps->crc32c;
    memcpy(o->level_min, caps->level_min, sizeof(o->level_min));
    memcpy(o->level_max, caps->level_max, sizeof(o->level_max));
    offer_cost_caps(o, caps, max_op_ms);
}

/* A field of a request is never longer than the request.  memcmp against
 * zeros compiles to a few wide loads, where a byte loop costs a branch per
 * octet. */
static const uint8_t zeros[sizeof(vaccel_request_t)];

static inline bool all_zero(const void *p, size_t len)
{
    return memcmp(p, zeros, len) == 0;
}

#define ZERO(field) all_zero(&(field), sizeof(field))

bool pvad_op_uses_src(uint8_t op)
{
    return op != VACCEL_OP_FILL;
}

bool pvad_op_uses_dst(uint8_t op)
{
    return op != VACCEL_OP_CRC32C;
}

bool pvad_op_writes_dst(uint8_t op)
{
    return op != VACCEL_OP_COMPARE && op != VACCEL_OP_CRC32C;
}

/* ------------------------------------------------------- control ops */

static bool op_is_blob(uint8_t op)
{
    return op >= VACCEL_OP_BLOB_CREATE && op <= VACCEL_OP_BLOB_READBACK;
}

static uint16_t control_flags_allowed(uint8_t op)
{
    if (op == VACCEL_OP_MAP_REGION)
        return VACCEL_MAP_F_WRITE;
    if (op == VACCEL_OP_BLOB_READBACK)
        return VACCEL_READBACK_F_REMAP;
    return 0;
}

static bool control_takes_handle(uint8_t op)
{
    return op == VACCEL_OP_SESSION_DESTROY || op == VACCEL_OP_BLOB_DESTROY ||
           op == VACCEL_OP_BLOB_READBACK;
}

static int validate_control(const struct pvad_limits *lim,
                            const vaccel_request_t *req)
{
    /* Before any field check: without the feature the op is not there. */
    if (op_is_blob(req->op) && !pvad_blobs_offered(lim))
        return -XEN_EOPNOTSUPP;
    if (req->flags & ~control_flags_allowed(req->op))
        return -XEN_EINVAL;
    if (req->alg && req->op != VACCEL_OP_SESSION_CREATE)
        return -XEN_EINVAL;
    if (req->handle && !control_takes_handle(req->op))
        return -XEN_EINVAL;
    switch (req->op) {
    case VACCEL_OP_NOP:
    case VACCEL_OP_SESSION_DESTROY:
    case VACCEL_OP_BLOB_DESTROY:
        return ZERO(req->u) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_MAP_REGION:
        return ZERO(req->u.map_region.reserved0) &&
               ZERO(req->u.map_region.reserved1) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_UNMAP_REGION:
        return ZERO(req->u.unmap_region.reserved) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_SESSION_CREATE:
        return ZERO(req->u.session_create.reserved) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_BLOB_CREATE:
        return ZERO(req->u.blob_create.reserved) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_BLOB_MIGRATE:
        return ZERO(req->u.blob_migrate.reserved) ? 0 : -XEN_EINVAL;
    case VACCEL_OP_BLOB_READBACK:
        return ZERO(req->u.blob_readback.reserved0) &&
               ZERO(req->u.blob_readback.reserved1) ? 0 : -XEN_EINVAL;
    default: /* VACCEL_OP_FAULT_RESPONSE */
        return ZERO(req->u.fault_response.reserved) &&
               req->u.fault_response.status <= 0 ? 0 : -XEN_EINVAL;
    }
}

/* --------------------------------------------------------- data ops */

static bool family_offered(const struct pvad_offer *o, uint8_t op)
{
    switch (op) {
    case VACCEL_OP_COMPRESS:
    case VACCEL_OP_DECOMPRESS:
        return o->compress_algs != 0;
    case VACCEL_OP_DIGEST:
        return o->digest_algs != 0;
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        return o->aead_algs != 0;
    case VACCEL_OP_COPY:
        return o->copy;
    case VACCEL_OP_FILL:
        return o->fill;
    case VACCEL_OP_COMPARE:
        return o->compare;
    default:
        return o->crc32c;
    }
}

static uint16_t op_flags_allowed(uint8_t op)
{
    uint16_t f = 0;

    if (pvad_op_uses_src(op))
        f |= VACCEL_REQ_F_SRC_INDIRECT;
    if (pvad_op_uses_dst(op))
        f |= VACCEL_REQ_F_DST_INDIRECT;
    if (op == VACCEL_OP_DIGEST)
        f |= VACCEL_DIGEST_F_MORE;
    if (op == VACCEL_OP_FILL)
        f |= VACCEL_FILL_F_PATTERN64;
    return f | VACCEL_REQ_F_IOPF;
}

/* The alg and handle header fields. */
static int validate_alg(const struct pvad_offer *o, const vaccel_request_t *req)
{
    pva_alg_mask mask = 0;

    if (req->op == VACCEL_OP_COMPRESS || req->op == VACCEL_OP_DECOMPRESS)
        mask = o->compress_algs;
    else if (req->op == VACCEL_OP_DIGEST)
        mask = o->digest_algs;
    else
        return req->alg ? -XEN_EINVAL : 0;
    if (req->alg >= 64 || !(mask & PVA_ALG_BIT(req->alg)))
        return -XEN_EOPNOTSUPP;
    return 0;
}

static int validate_handle(const vaccel_request_t *req)
{
    switch (req->op) {
    case VACCEL_OP_DIGEST:
        if ((req->flags & VACCEL_DIGEST_F_MORE) && !req->handle)
            return -XEN_EINVAL;   /* MORE needs a session */
        return 0;
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        return 0;                 /* 0 is an unknown session: ENOENT */
    default:
        return req->handle ? -XEN_EINVAL : 0;
    }
}

/* @max_bytes: the most a direct operand may be (pvad_src_max_bytes()). */
static int validate_operand(const struct pvad_limits *lim,
                            const struct vaccel_seg *seg, bool indirect,
                            uint64_t max_bytes)
{
    uint64_t iova_end = (uint64_t)1 << lim->iova_bits;

    if (indirect) {
        if (!seg->len || seg->len % sizeof(struct vaccel_seg) ||
            seg->iova % 8)
            return -XEN_EINVAL;
        if (seg->len / sizeof(struct vaccel_seg) > lim->max_sg_entries)
            return -XEN_E2BIG;
    } else {
        if (!seg->len)
            return 0;          /* empty: iova ignored */
        if (seg->len > max_bytes)
            return -XEN_E2BIG;
    }
    if (seg->len > iova_end || seg->iova > iova_end - seg->len)
        return -XEN_EINVAL;
    return 0;
}

/* The 16 parameter octets at offset 48. */
static int validate_params(const struct pvad_offer *o,
                           const vaccel_request_t *req)
{
    switch (req->op) {
    case VACCEL_OP_COMPRESS: {
        int32_t level = req->u.compress.level;

        if (!ZERO(req->u.compress.reserved0) ||
            !ZERO(req->u.compress.reserved1))
            return -XEN_EINVAL;
        if (level != VACCEL_LEVEL_DEFAULT &&
            (level < o->level_min[req->alg] || level > o->level_max[req->alg]))
            return -XEN_EINVAL;
        return 0;
    }
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        return 0;              /* nonce and aad_len: all values legal here */
    case VACCEL_OP_FILL:
        if (!ZERO(req->u.fill.reserved1))
            return -XEN_EINVAL;
        if (!(req->flags & VACCEL_FILL_F_PATTERN64) &&
            (req->u.fill.pattern >> 8))
            return -XEN_EINVAL;
        return 0;
    case VACCEL_OP_CRC32C:
        return ZERO(req->u.crc32c.reserved1) &&
               ZERO(req->u.crc32c.reserved2) ? 0 : -XEN_EINVAL;
    default:
        return ZERO(req->u.data.param) ? 0 : -XEN_EINVAL;
    }
}

static int validate_data(const struct pvad_offer *o,
                         const struct pvad_limits *lim,
                         const vaccel_request_t *req)
{
    const struct vaccel_seg *src = &req->u.data.src, *dst = &req->u.data.dst;
    bool src_ind = req->flags & VACCEL_REQ_F_SRC_INDIRECT;
    bool dst_ind = req->flags & VACCEL_REQ_F_DST_INDIRECT;
    int rc;

    if (req->flags & ~op_flags_allowed(req->op))
        return -XEN_EINVAL;
    if (!pvad_op_uses_src(req->op) && !ZERO(*src))
        return -XEN_EINVAL;
    if (!pvad_op_uses_dst(req->op) && !ZERO(*dst))
        return -XEN_EINVAL;
    if (req->op == VACCEL_OP_DIGEST && (req->flags & VACCEL_DIGEST_F_MORE) &&
        (!ZERO(*dst) || dst_ind))
        return -XEN_EINVAL;
    rc = validate_handle(req);
    if (!rc && !family_offered(o, req->op))
        rc = -XEN_EOPNOTSUPP;
    if (!rc)
        rc = validate_alg(o, req);  /* before params: level tables by alg */
    if (!rc)
        rc = validate_params(o, req);
    if (!rc && pvad_op_uses_src(req->op))
        rc = validate_operand(lim, src, src_ind,
                              pvad_src_max_bytes(o, lim, req));
    if (!rc && pvad_op_uses_dst(req->op))
        rc = validate_operand(lim, dst, dst_ind, lim->max_op_bytes);
    return rc;
}

int pvad_validate(const struct pvad_offer *o, const struct pvad_limits *lim,
                  const vaccel_request_t *req)
{
    if (req->op <= VACCEL_OP_FAULT_RESPONSE)
        return validate_control(lim, req);
    if (req->op >= VACCEL_OP_COMPRESS && req->op <= VACCEL_OP_CRC32C)
        return validate_data(o, lim, req);
    return -XEN_ENOSYS;
}
