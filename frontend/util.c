/* SPDX-License-Identifier: MIT */
/* util.c: names, error messages, status conversion. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "frontend/internal.h"

/* The public numbers are the wire's: keep them in step. */
_Static_assert(PVA_OP_COMPRESS == VACCEL_OP_COMPRESS &&
               PVA_OP_CRC32C == VACCEL_OP_CRC32C &&
               PVA_OP_AEAD_DECRYPT == VACCEL_OP_AEAD_DECRYPT, "op codes");
_Static_assert(PVA_ALG_LZ4 == VACCEL_ALG_LZ4 && PVA_ALG_SHA512 == VACCEL_ALG_SHA512 &&
               PVA_ALG_CHACHA20_POLY1305 == VACCEL_ALG_CHACHA20_POLY1305,
               "algorithm codes");
_Static_assert(PVA_F_SRC_INDIRECT == VACCEL_REQ_F_SRC_INDIRECT &&
               PVA_F_DST_INDIRECT == VACCEL_REQ_F_DST_INDIRECT &&
               PVA_DIGEST_F_MORE == VACCEL_DIGEST_F_MORE &&
               PVA_FILL_F_PATTERN64 == VACCEL_FILL_F_PATTERN64, "flags");
_Static_assert(sizeof(struct pva_seg) == sizeof(struct vaccel_seg), "segments");
_Static_assert(PVA_AEAD_KEY_LEN == VACCEL_AEAD_KEY_LEN &&
               PVA_AEAD_TAG_LEN == VACCEL_AEAD_TAG_LEN, "AEAD sizes");

static const struct {
    int alg;
    const char *name;
} algs[] = {
    { PVA_ALG_DEFLATE, VACCEL_ALG_NAME_DEFLATE },
    { PVA_ALG_ZLIB, VACCEL_ALG_NAME_ZLIB },
    { PVA_ALG_GZIP, VACCEL_ALG_NAME_GZIP },
    { PVA_ALG_ZSTD, VACCEL_ALG_NAME_ZSTD },
    { PVA_ALG_LZ4, VACCEL_ALG_NAME_LZ4 },
    { PVA_ALG_SHA256, VACCEL_ALG_NAME_SHA256 },
    { PVA_ALG_SHA512, VACCEL_ALG_NAME_SHA512 },
    { PVA_ALG_AES_256_GCM, VACCEL_ALG_NAME_AES_256_GCM },
    { PVA_ALG_CHACHA20_POLY1305, VACCEL_ALG_NAME_CHACHA20_POLY1305 },
};

const char *pva_alg_name(int alg)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (algs[i].alg == alg)
            return algs[i].name;
    return NULL;
}

int pva_alg_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(algs) / sizeof(algs[0]); i++)
        if (!strcmp(algs[i].name, name))
            return algs[i].alg;
    return -EINVAL;
}

unsigned int pva_digest_len(int alg)
{
    return alg == PVA_ALG_SHA256 ? PVA_SHA256_LEN
         : alg == PVA_ALG_SHA512 ? PVA_SHA512_LEN : 0;
}

/*
 * Statuses are negated XEN_E* values, which are Linux x86's errno numbers
 * (xen/errno.h).  On Linux they are ours; anything unexpected is a
 * failure of that request only (accelif.h) and reads as -EIO.
 */
int fe_errno_from_status(int32_t status)
{
    if (status == 0)
        return 0;
    if (status > 0 || status < -4095)
        return -EIO;
    return status;
}

const char *pva_strerror(int err)
{
    switch (-err) {
    case 0: return "success";
    case ENOTCONN: return "connection to the backend lost: the request may or may not have run";
    case EBADMSG: return "authentication failed (wrong key, or data corrupted)";
    case ENOSPC: return "output does not fit in the destination buffer";
    case ENODATA: return "compressed input ends inside a stream";
    case EILSEQ: return "input is not a valid compressed stream";
    case EFAULT: return "an operand touches device memory with nothing mapped";
    case EACCES: return "an output lies in read-only memory, or a grant could not be mapped";
    case EOPNOTSUPP: return "operation or algorithm not offered by this device";
    case ENOSYS: return "operation unknown to the backend";
    case ENOENT: return "no such region, session or blob on this device";
    case EEXIST: return "the range overlaps a region already registered";
    case E2BIG: return "operand or region above the device's limit";
    case EMFILE: return "too many regions, sessions or blobs (device limit)";
    case EBUSY: return "object in use, or too many requests in flight";
    case ETIMEDOUT: return "timed out";
    case ENODEV: return "no such vaccel device";
    case ECONNREFUSED: return "the backend refused the connection";
    case EPROTONOSUPPORT: return "no protocol version in common with the backend";
    case ESHUTDOWN: return "the device is being closed";
    case ESTALE: return "the blob was lost with an earlier connection";
    case EIO: return "accelerator engine failure";
    default: return strerror(-err);
    }
}

unsigned int fe_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned int)n : 1;
}
