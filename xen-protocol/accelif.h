/* SPDX-License-Identifier: MIT */
/******************************************************************************
 * accelif.h
 *
 * Unified accelerator ("vaccel") I/O interface for Xen guest OSes.
 *
 * A guest (frontend) submits compression, hashing, AEAD and memory
 * operations to an accelerator owned by a backend domain.  Requests name
 * guest memory by I/O virtual address (IOVA) in a per-device I/O address
 * space that the guest populates with long-term granted regions.
 *
 * Copyright (c) 2024, the pvaccel authors
 */

#ifndef __XEN_PUBLIC_IO_ACCELIF_H__
#define __XEN_PUBLIC_IO_ACCELIF_H__

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/grant_table.h>
#include <xen/errno.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>

/*
 * ring.h leaves the memory barriers to the includer.  Provide the C11
 * equivalents unless the includer has its own (the Linux kernel, xenctrl.h).
 * xen_rmb orders loads before later loads and stores (acquire), xen_wmb
 * orders loads and stores before later stores (release), xen_mb is a full
 * fence.  On x86 the first two compile to nothing, as in Xen's own tools.
 *
 * An includer that sets neither __XEN_TOOLS__ nor __XEN_INTERFACE_VERSION__
 * gets the legacy interface, for which ring.h maps xen_mb() to a bare mb()
 * that user space does not have; replace that mapping too.
 */
#if __XEN_INTERFACE_VERSION__ < 0x00030208 && !defined(mb)
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#endif
#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef xen_rmb
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef xen_wmb
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/*
 ******************************************************************************
 *                           Protocol version
 ******************************************************************************
 */
#define VACCEL_PROTOCOL_VERSION      1
#define VACCEL_PROTOCOL_VERSION_STR  "1"

/*
 ******************************************************************************
 *                  Main features provided by the protocol
 ******************************************************************************
 *  o multiple queues (one ring + event channel each), multi-page rings;
 *  o an I/O address space per device: the guest registers granted regions
 *    at IOVAs it chooses; requests and scatter lists carry IOVAs, never
 *    grant references; the backend maps each region's grants once
 *    (persistently) and may map them into the device's IOMMU;
 *  o data operations: compress / decompress (deflate, zlib, gzip, zstd,
 *    lz4), digest (sha256, sha512, one-shot or streamed in a session),
 *    AEAD encrypt / decrypt (aes-256-gcm, chacha20-poly1305), copy, fill,
 *    compare, crc32c;
 *  o sessions holding AEAD keys (read once from guest memory) or digest
 *    state;
 *  o backend blobs: memory owned by the backend or device, placed in the
 *    I/O address space, optionally filled from a granted region (only the
 *    pages marked dirty) so that the region's grants can be released;
 *  o I/O page faults reported to the guest on an event ring, optionally
 *    recoverable (the faulting request waits until the guest maps the range
 *    and answers the fault);
 *  o device events: queue stopped, engine reset, quota hit.
 *
 ******************************************************************************
 *                  Feature and Parameter Negotiation
 ******************************************************************************
 *
 * Front->back notifications: when enqueuing a new request, sending a
 * notification can be made conditional on req_event (i.e., the generic
 * hold-off mechanism provided by the ring macros).  Backends must set
 * req_event appropriately (e.g., using RING_FINAL_CHECK_FOR_REQUESTS()).
 *
 * Back->front notifications: when enqueuing a new response, sending a
 * notification can be made conditional on rsp_event.  Frontends must set
 * rsp_event appropriately (e.g., using RING_FINAL_CHECK_FOR_RESPONSES()).
 * The event ring has the same hold-off mechanism (evt_event, see "Event
 * ring" below).  A peer that busy-polls needs no notification at all; event
 * channel notifications are doorbells: they coalesce and carry no data.
 *
 * The two halves of the driver use nodes in XenStore to communicate
 * capabilities and to negotiate operating parameters.  All data in XenStore
 * is stored as strings.  Nodes specifying numeric values are encoded in
 * decimal, without sign unless the type is signed, without leading zeros
 * or white space.  Integer ranges listed below are fixed-size integer types
 * that hold the value of a well-formed node without loss.  Lists are
 * VACCEL_LIST_SEPARATOR (",") separated, without spaces.
 *
 * Any specified default value is in effect if the corresponding node is not
 * present in XenStore.  A node whose value does not parse, or is out of
 * range, is a handshake error (see "Handshake errors").
 *
 * Nodes marked PRIVATE are only for the side whose directory holds them.
 * Nodes a backend writes in its directory that are not listed here (for
 * example statistics) are PRIVATE; frontends must ignore them.
 *
 * Paths (<domid> is the frontend domain, <be-domid> the backend domain,
 * <id> the device index chosen by the toolstack, starting at 0):
 *
 *   frontend:  /local/domain/<domid>/device/vaccel/<id>
 *   backend:   /local/domain/<be-domid>/backend/vaccel/<domid>/<id>
 *
 * The toolstack creates both directories with the permissions libxl uses
 * for every PV device: the frontend directory is owned by the frontend
 * domain and readable by the backend domain, the backend directory is
 * owned by the backend domain and readable by the frontend domain.
 *
 ******************************************************************************
 *                        Example configuration
 ******************************************************************************
 *
 * A connected device with two queues and 2-page rings (domU 1, dom0
 * backend):
 *
 *------------------------------- Backend --------------------------------------
 *
 * /local/domain/0/backend/vaccel/1/0/frontend = "/local/domain/1/device/vaccel/0"
 * /local/domain/0/backend/vaccel/1/0/frontend-id = "1"
 * /local/domain/0/backend/vaccel/1/0/online = "1"
 * /local/domain/0/backend/vaccel/1/0/state = "4"
 * /local/domain/0/backend/vaccel/1/0/versions = "1"
 * /local/domain/0/backend/vaccel/1/0/multi-queue-max-queues = "4"
 * /local/domain/0/backend/vaccel/1/0/max-ring-page-order = "4"
 * /local/domain/0/backend/vaccel/1/0/engine = "cpu"
 * /local/domain/0/backend/vaccel/1/0/feature-ops = "compress,decompress,digest,aead,copy,fill,compare,crc32c"
 * /local/domain/0/backend/vaccel/1/0/compress-algs = "deflate,zlib,gzip,zstd,lz4"
 * /local/domain/0/backend/vaccel/1/0/compress-levels = "deflate:1:12,zlib:1:12,gzip:1:12,zstd:-131072:22,lz4:1:12"
 * /local/domain/0/backend/vaccel/1/0/digest-algs = "sha256,sha512"
 * /local/domain/0/backend/vaccel/1/0/aead-algs = "aes-256-gcm,chacha20-poly1305"
 * /local/domain/0/backend/vaccel/1/0/feature-blobs = "1"
 * /local/domain/0/backend/vaccel/1/0/feature-iopf = "1"
 * /local/domain/0/backend/vaccel/1/0/max-regions = "256"
 * ...  (the other limits, see below)
 *
 *------------------------------- Frontend -------------------------------------
 *
 * /local/domain/1/device/vaccel/0/backend = "/local/domain/0/backend/vaccel/1/0"
 * /local/domain/1/device/vaccel/0/backend-id = "0"
 * /local/domain/1/device/vaccel/0/state = "4"
 * /local/domain/1/device/vaccel/0/version = "1"
 * /local/domain/1/device/vaccel/0/multi-queue-num-queues = "2"
 * /local/domain/1/device/vaccel/0/ring-page-order = "1"
 * /local/domain/1/device/vaccel/0/queue-0/ring-ref0 = "8"
 * /local/domain/1/device/vaccel/0/queue-0/ring-ref1 = "9"
 * /local/domain/1/device/vaccel/0/queue-0/event-channel = "5"
 * /local/domain/1/device/vaccel/0/queue-1/ring-ref0 = "10"
 * /local/domain/1/device/vaccel/0/queue-1/ring-ref1 = "11"
 * /local/domain/1/device/vaccel/0/queue-1/event-channel = "6"
 * /local/domain/1/device/vaccel/0/evt-ring-ref = "12"
 * /local/domain/1/device/vaccel/0/evt-event-channel = "7"
 *
 ******************************************************************************
 *                            Backend XenBus Nodes
 ******************************************************************************
 *
 *------------------------- Toolstack-written nodes ----------------------------
 *
 * frontend
 *      Values:         <string> (absolute path)
 *      Written by:     toolstack
 *
 *      The frontend directory of this device.
 *
 * frontend-id
 *      Values:         <uint16_t> (domid)
 *      Written by:     toolstack
 *
 *      The frontend domain.  The backend maps grants of, and binds event
 *      channels to, this domain only.
 *
 * online
 *      Values:         "0", "1"
 *      Default Value:  "0"
 *      Written by:     toolstack
 *
 *      "1" while the device is attached.  The toolstack writes "0" before
 *      removing the device; the backend then stays in XenbusStateClosed once
 *      it got there instead of returning to XenbusStateInitWait.
 *
 * state
 *      Values:         <uint32_t> (enum xenbus_state)
 *      Written by:     toolstack (XenbusStateInitialising), then backend
 *
 * params
 *      Values:         <string>, "key=value" list
 *      Default Value:  ""
 *      Written by:     toolstack.  PRIVATE.
 *
 *      Per-device settings from the administrator (xl "vaccel = [ '...' ]"
 *      lines).  Keys defined for version 1: "engine=<name>" (which engine
 *      serves the device) and the name of any limit node below with a value
 *      lower than or equal to the backend's own setting.  Unknown keys are a
 *      handshake error.
 *
 * hotplug-status
 *      Values:         "connected"
 *      Written by:     backend, optional
 *
 *      No hotplug script is involved with vaccel.  A backend may write
 *      "connected" when it first reaches XenbusStateInitWait, for toolstacks
 *      that wait on this node.  Frontends ignore it.
 *
 *----------------------------- Protocol version -------------------------------
 *
 * versions
 *      Values:         <string>, list of <uint32_t>
 *      Written by:     backend, before XenbusStateInitWait
 *      Required.
 *
 *      Protocol versions the backend implements, e.g. "1".  This header
 *      defines version VACCEL_PROTOCOL_VERSION.
 *
 *------------------------- Request transport parameters -----------------------
 *
 * multi-queue-max-queues
 *      Values:         <uint32_t>, 1 .. VACCEL_MAX_QUEUES
 *      Default Value:  1
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      The maximum number of queues (request rings) the frontend may set up.
 *
 * max-ring-page-order
 *      Values:         <uint32_t>, 0 .. VACCEL_MAX_RING_PAGE_ORDER
 *      Default Value:  0
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      The maximum size of each request ring and of the event ring, in
 *      units of lb(pages): 0 = 1 page, 1 = 2 pages, ... .  See
 *      VACCEL_RING_SIZE() for the number of slots per order.
 *
 *-------------------------------- Capabilities --------------------------------
 *
 * engine
 *      Values:         <string>
 *      Written by:     backend, before XenbusStateInitWait
 *      Required.
 *
 *      Name of the engine serving this device, e.g. "cpu", for display.
 *
 * feature-ops
 *      Values:         <string>, list of operation family names
 *      Default Value:  ""
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      The data operation families offered, a subset of
 *      "compress,decompress,digest,aead,copy,fill,compare,crc32c" in any
 *      order.  "aead" covers both AEAD_ENCRYPT and AEAD_DECRYPT.  Control
 *      operations (NOP, MAP_REGION, UNMAP_REGION, SESSION_*, FAULT_RESPONSE)
 *      are always offered; BLOB_* need "feature-blobs".  A request for a
 *      family not listed completes with -XEN_EOPNOTSUPP.
 *
 * compress-algs, digest-algs, aead-algs
 *      Values:         <string>, list of algorithm names
 *      Default Value:  ""
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      The algorithms offered per family (names in the table under
 *      "Algorithms"): compress-algs for COMPRESS and DECOMPRESS,
 *      digest-algs for DIGEST and digest sessions, aead-algs for AEAD
 *      sessions.  An algorithm not listed gives -XEN_EOPNOTSUPP.
 *
 * compress-levels
 *      Values:         <string>, list of "<alg>:<int32_t min>:<int32_t max>"
 *      Default Value:  every compress alg accepts only level 0
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      The accepted compression level range per algorithm, e.g.
 *      "deflate:1:12,zstd:-7:22".  Level 0 (the algorithm's default level)
 *      is always accepted.
 *
 * feature-blobs
 *      Values:         "0", "1"
 *      Default Value:  "0"
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      "1": BLOB_CREATE, BLOB_DESTROY, BLOB_MIGRATE and BLOB_READBACK are
 *      offered.  Otherwise they complete with -XEN_EOPNOTSUPP.
 *
 * feature-iopf
 *      Values:         "0", "1"
 *      Default Value:  "0"
 *      Written by:     backend, before XenbusStateInitWait
 *
 *      "1": requests may set VACCEL_REQ_F_IOPF (recoverable I/O page
 *      faults).  Otherwise such requests complete with -XEN_EOPNOTSUPP.
 *      Fault records for non-recoverable faults are always posted.
 *
 *----------------------------------- Limits -----------------------------------
 *
 * All written by the backend before XenbusStateInitWait, all per device.
 * When absent, the default given applies.  A backend may also enforce
 * per-domain quotas across all devices of a frontend domain, which can be
 * hit before a per-device limit; the status is the same.
 *
 * max-regions             <uint32_t>  default VACCEL_DEFAULT_MAX_REGIONS
 *      Regions registered at the same time.  MAP_REGION beyond it:
 *      -XEN_EMFILE.
 * max-region-pages        <uint32_t>  default VACCEL_DEFAULT_MAX_REGION_PAGES
 *      Pages in one region (and hence the length of a page directory chain:
 *      at most ceil(max-region-pages / VACCEL_DIR_GREFS_PER_PAGE) directory
 *      pages).  MAP_REGION, BLOB_CREATE, BLOB_READBACK beyond it: -XEN_E2BIG.
 * max-mapped-pages        <uint64_t>  default VACCEL_DEFAULT_MAX_MAPPED_PAGES
 *      Granted pages mapped persistently, all regions together.  Beyond it:
 *      -XEN_ENOMEM.
 * max-mappings            <uint64_t>  default: the value of max-mapped-pages
 *      Mappings the backend holds for regions, all regions together.  A
 *      region costs at least one and at most one per page, depending on
 *      the backend's platform and the order of the region's grants: Xen's
 *      gntdev maps any list of grants as one mapping, while a platform
 *      that maps runs of pages separately (pvaccel's sim: one per run of
 *      pages granted one after another in one allocation) charges a region
 *      that lists its pages out of that order more.  Beyond it:
 *      -XEN_ENOMEM, and nothing stays mapped.
 * max-blobs               <uint32_t>  default VACCEL_DEFAULT_MAX_BLOBS
 *      Blobs existing at the same time.  Beyond it: -XEN_EMFILE.
 * max-blob-pages          <uint64_t>  default VACCEL_DEFAULT_MAX_BLOB_PAGES
 *      Blob memory, all blobs together, in pages of VACCEL_PAGE_SIZE.
 *      Beyond it: -XEN_ENOMEM.
 * max-sessions            <uint32_t>  default VACCEL_DEFAULT_MAX_SESSIONS
 *      Sessions existing at the same time.  Beyond it: -XEN_EMFILE.
 * max-in-flight           <uint32_t>  default VACCEL_DEFAULT_MAX_IN_FLIGHT
 *      Requests accepted and not yet answered, all queues together,
 *      including requests held on a recoverable fault; NOP and
 *      FAULT_RESPONSE do not count.  A request beyond it completes at once
 *      with -XEN_EBUSY (it is not queued); the frontend retries later.
 * max-sg-entries          <uint32_t>  default VACCEL_DEFAULT_MAX_SG_ENTRIES
 *      Entries in one scatter list (indirect operand).  Beyond it:
 *      -XEN_E2BIG.
 * max-op-bytes            <uint64_t>  default VACCEL_DEFAULT_MAX_OP_BYTES
 *      Total length of one operand (direct, or the sum of a scatter list).
 *      Beyond it: -XEN_E2BIG.  Bounds the work of one request.
 * compress-max-bytes      <string>, list of "<alg>:<level>:<uint64_t bytes>"
 *                         default "" (no level below max-op-bytes)
 *      The most source bytes (direct, or the sum of a scatter list) one
 *      COMPRESS of <alg> at <level> may take, for each level where that is
 *      less than max-op-bytes: the slow levels, which the backend caps by
 *      the time one request may take.  <level> 0 is the algorithm's
 *      default level; levels not listed, and negative levels, take up to
 *      max-op-bytes.  Beyond it: -XEN_E2BIG at once, with no effect; a
 *      frontend may compress at a lower level or in smaller pieces.  E.g.
 *      "zstd:19:1048576,zstd:20:1048576".
 * iova-bits               <uint32_t>, 13 .. 63, default VACCEL_DEFAULT_IOVA_BITS
 *      Width of the I/O address space: every byte addressed must lie below
 *      2^iova-bits.
 * fault-timeout-ms        <uint32_t>  default VACCEL_DEFAULT_FAULT_TIMEOUT_MS
 *      How long a request held on a recoverable fault waits for its
 *      FAULT_RESPONSE before completing with -XEN_ETIMEDOUT.
 *
 *------------------------------ Handshake errors ------------------------------
 *
 * error
 *      Values:         <string>
 *      Written by:     backend
 *
 *      A one-line reason, written when the backend rejects the frontend's
 *      parameters and goes to XenbusStateClosing.  Removed when the backend
 *      next enters XenbusStateInitWait.  Printable ASCII: a value it quotes
 *      is escaped (\\, \" and \xNN) and cut short with "...".
 *
 ******************************************************************************
 *                            Frontend XenBus Nodes
 ******************************************************************************
 *
 *------------------------- Toolstack-written nodes ----------------------------
 *
 * backend
 *      Values:         <string> (absolute path)
 *      Written by:     toolstack
 *
 * backend-id
 *      Values:         <uint16_t> (domid)
 *      Written by:     toolstack
 *
 *      The domain all grants and event channels of this device are for.
 *
 * state
 *      Values:         <uint32_t> (enum xenbus_state)
 *      Written by:     toolstack (XenbusStateInitialising), then frontend
 *
 *----------------------------- Protocol version -------------------------------
 *
 * version
 *      Values:         <uint32_t>
 *      Written by:     frontend, before XenbusStateInitialised
 *      Required.
 *
 *      The version the frontend speaks, one of the backend's "versions"
 *      (frontends pick the highest they implement).  Absent or not offered:
 *      handshake error.  A later version of this protocol is negotiated the
 *      same way; additions that keep every version 1 structure and rule
 *      valid are instead gated by new backend "feature-*" nodes (default
 *      off) and need no new version.  Because reserved fields and flag bits
 *      must be zero and are rejected otherwise, a version 1 frontend can
 *      never trigger an extension by accident.
 *
 *------------------------- Request transport parameters -----------------------
 *
 * All of these are written before the frontend enters
 * XenbusStateInitialised, preferably in the same transaction as the state.
 *
 * multi-queue-num-queues
 *      Values:         <uint32_t>, 1 .. multi-queue-max-queues
 *      Default Value:  1
 *
 *      Number of queues.  With one queue, "ring-ref"/"ring-refN" and
 *      "event-channel" are written at the top level of the frontend
 *      directory; with two or more they are written under "queue-N"
 *      (N = 0 .. num-queues - 1) and not at the top level, exactly as
 *      blkif's multi-queue scheme.
 *
 * ring-page-order
 *      Values:         <uint32_t>, 0 .. max-ring-page-order
 *      Default Value:  0
 *
 *      Size of every request ring, in lb(pages).  The same for all queues.
 *
 * [queue-N/]ring-ref
 *      Values:         <uint32_t> (grant_ref_t)
 *
 *      With ring-page-order 0: the grant (read-write, to backend-id) of the
 *      queue's one ring page.
 *
 * [queue-N/]ring-ref%u
 *      Values:         <uint32_t> (grant_ref_t)
 *
 *      With ring-page-order > 0: one node per ring page, ring-ref0 ..
 *      ring-ref(2^order - 1), granting the pages in ring order.  ring-ref is
 *      then not written.
 *
 * [queue-N/]event-channel
 *      Values:         <uint32_t> (evtchn_port_t)
 *
 *      Unbound event channel (for backend-id) signalling the queue's ring,
 *      both directions.
 *
 *-------------------------- Event transport parameters ------------------------
 *
 * The event ring carries backend-initiated records (faults, device events)
 * for the whole device.  It is required.
 *
 * evt-ring-page-order
 *      Values:         <uint32_t>, 0 .. max-ring-page-order
 *      Default Value:  0
 *
 * evt-ring-ref, evt-ring-ref%u
 *      Values:         <uint32_t> (grant_ref_t)
 *
 *      Grants (read-write) of the event ring pages, with the same single /
 *      multi-page naming rule as ring-ref.
 *
 * evt-event-channel
 *      Values:         <uint32_t> (evtchn_port_t)
 *
 *      Unbound event channel for the event ring.  It may not be the same
 *      port as a queue's.
 */

/*
 ******************************************************************************
 *                               STATE DIAGRAMS
 ******************************************************************************
 *
 * The toolstack creates both directories with state XenbusStateInitialising
 * (1) and the backend directory with online = "1".
 *
 *-------------------------------- Normal flow ---------------------------------
 *
 * Front                                Back
 * =================================    =====================================
 * XenbusStateInitialising (1)          XenbusStateInitialising (1)
 *                                       o Read frontend-id, params; open the
 *                                         engine.
 *                                       o Remove stale transport state and
 *                                         the "error" node; publish
 *                                         versions, transport parameters,
 *                                         capabilities and limits.
 *                                                      |
 *                                                      V
 *                                      XenbusStateInitWait (2)
 *
 *  o Wait for backend InitWait.
 *  o Read versions, capabilities,
 *    limits.
 *  o Allocate, zero (SHARED_RING_INIT)
 *    and grant the rings; allocate
 *    event channels.
 *  o Write version and transport nodes
 *    (one transaction with the state).
 *              |
 *              V
 * XenbusStateInitialised (3)
 *                                       o Read and validate the frontend's
 *                                         nodes; map the rings (read-write),
 *                                         bind the event channels.
 *                                                      |
 *                                                      V
 *                                      XenbusStateConnected (4)
 *  o Wait for backend Connected.
 *              |
 *              V
 * XenbusStateConnected (4)
 *
 * The backend connects only on seeing the frontend in XenbusStateInitialised
 * while itself in XenbusStateInitWait.  A frontend in XenbusStateConnected
 * seen by a backend in InitWait is stale (left from an earlier connection)
 * and is ignored.  Unlike blkif there are no skipped states: the frontend
 * never goes to Initialised before the backend reached InitWait.
 *
 *------------------------------ Orderly shutdown ------------------------------
 *
 * Front                                Back
 * =================================    =====================================
 * XenbusStateClosing (5)
 *  o Stop submitting requests; keep
 *    consuming responses.
 *                                       o Stop consuming requests.  Finish
 *                                         every request already running and
 *                                         post its response; requests not
 *                                         yet started may be cancelled, and
 *                                         get no response.
 *                                       o Destroy sessions and blobs, unmap
 *                                         every region, unmap rings, unbind
 *                                         event channels.
 *                                                      |
 *                                                      V
 *                                      XenbusStateClosed (6)
 *  o Consume the last responses; fail
 *    every request still outstanding
 *    with -XEN_ENOTCONN (see Recovery).
 *  o End the grants of rings, regions
 *    and directory pages (the backend
 *    has unmapped them); close the
 *    event channels.
 *              |
 *              V
 * XenbusStateClosed (6)
 *
 *                                       o If online is "1" and the frontend
 *                                         goes back to Initialising (1):
 *                                         republish, go to InitWait (2).
 *                                       o If online is "0": stay Closed; the
 *                                         toolstack removes both directories.
 *
 * The toolstack detaches a device by writing online = "0" and switching the
 * backend to XenbusStateClosing; the flow above then runs from the backend
 * side.  When the frontend domain dies (@releaseDomain, or its directory
 * disappears) the backend tears the device down as for Closing without
 * waiting for anything from the frontend.
 *
 *--------------------------- Reconnect and recovery ---------------------------
 *
 * Connections are not resumable: every connection starts with empty rings
 * and an empty I/O address space.  Regions, sessions and blobs (including
 * blob contents) belong to one connection and are gone after it.  A frontend
 * that wants to keep using the device re-registers them after reconnecting
 * (blob contents must be read back with BLOB_READBACK before a planned
 * disconnect such as save or migration).
 *
 * Frontend restart.  A frontend that (re)starts and finds its state node
 * not in XenbusStateInitialising or XenbusStateClosed (it crashed, or an
 * earlier instance exited without closing):
 *  o writes XenbusStateClosing (5) and waits for the backend to reach
 *    XenbusStateClosed (6) (the backend then has unmapped everything of the
 *    old connection), then
 *  o removes its old transport nodes and writes XenbusStateInitialising (1);
 *    the backend goes to XenbusStateInitWait (2) and the normal flow runs.
 * A backend that sees the frontend go to XenbusStateInitialising (1) from
 * any state while it is in InitWait, Connected or Closing treats it exactly
 * as Closing followed by Initialising: tear down, then InitWait.
 *
 * Backend restart.  A backend that (re)starts (its previous instance
 * crashed, was killed or exited) never reuses anything it finds in
 * XenStore: for each device it republishes its nodes and writes
 * XenbusStateInitWait (2), whatever the old state was, except that a
 * device whose frontend is Closing or Closed, or whose "online" is 0, is
 * published as XenbusStateClosed and goes to InitWait when the frontend
 * writes Initialising (an InitWait offered there would be withdrawn at
 * once, under a frontend that may be initialising).  A backend that
 * exits in an orderly way writes XenbusStateClosed (6) for its devices
 * after tearing them down.  The frontend treats any change of the backend
 * state away from XenbusStateConnected (to InitWait, Closing, Closed,
 * Unknown, or the node vanishing) as a lost connection:
 *  o it stops submitting; if the backend is in Closing it keeps consuming
 *    responses until the backend reaches Closed or InitWait;
 *  o it fails every request still outstanding with -XEN_ENOTCONN;
 *  o it frees the connection's resources and writes
 *    XenbusStateInitialising (1); when the backend is (or gets to)
 *    InitWait the normal flow runs.
 * A backend process that died has lost its grant mappings together with its
 * grant-device file descriptor, so the frontend may then end those grants.
 *
 * In-flight requests on a lost connection.  A backend disconnect never
 * completes anything silently: every request a frontend submitted completes
 * exactly once, either with the response the backend posted (visible in the
 * ring before the frontend failed the rest) or with -XEN_ENOTCONN, which
 * only the frontend generates and which means "the request may or may not
 * have been executed; its outputs are undefined".  A backend that is
 * closing answers the requests it was executing and may drop the ones it
 * had accepted but not started (so that a guest that queued hours of work
 * and left does not keep the device busy): those too end as -XEN_ENOTCONN.  The frontend does not
 * resubmit on its own: the caller decides.  All version 1 data operations
 * are idempotent given the same inputs, so a caller may resubmit them once
 * the regions (and sessions) they use exist again in the new connection;
 * a DIGEST with VACCEL_DIGEST_F_MORE cannot be resumed because the session
 * state is lost.  Responses cannot arrive twice: a new connection uses
 * freshly initialised rings, and a backend never maps the rings of an
 * earlier connection.
 *
 * Handshake errors.  If the frontend's nodes are invalid (missing version,
 * a bad value, a grant or event channel that cannot be mapped or bound),
 * the backend writes "error", undoes what it mapped and goes to
 * XenbusStateClosing, then XenbusStateClosed once the frontend is in
 * Closing or Closed.  The frontend reads "error", reports it, and either
 * retries from XenbusStateInitialising or stays Closed.
 *
 * Queue stop.  A frontend that violates the ring protocol on a queue (the
 * request producer index runs more than the ring size ahead:
 * RING_REQUEST_PROD_OVERFLOW) gets that queue stopped: the backend stops
 * consuming it, completes the requests it had consumed, and posts a
 * VACCEL_EVT_QUEUE_STOPPED record.  Other queues and devices are not
 * affected.  The queue stays stopped until the device reconnects.
 */

/*
 ******************************************************************************
 *                     XENSTORE NODE NAMES AND FORMATS
 ******************************************************************************
 */
#define VACCEL_DEVICE_TYPE                "vaccel"
#define VACCEL_LIST_SEPARATOR             ","

#define VACCEL_FIELD_FRONTEND             "frontend"
#define VACCEL_FIELD_FRONTEND_ID          "frontend-id"
#define VACCEL_FIELD_BACKEND              "backend"
#define VACCEL_FIELD_BACKEND_ID           "backend-id"
#define VACCEL_FIELD_STATE                "state"
#define VACCEL_FIELD_ONLINE               "online"
#define VACCEL_FIELD_PARAMS               "params"
#define VACCEL_FIELD_HOTPLUG_STATUS       "hotplug-status"
#define VACCEL_FIELD_ERROR                "error"

#define VACCEL_FIELD_BE_VERSIONS          "versions"
#define VACCEL_FIELD_FE_VERSION           "version"

#define VACCEL_FIELD_MAX_QUEUES           "multi-queue-max-queues"
#define VACCEL_FIELD_NUM_QUEUES           "multi-queue-num-queues"
#define VACCEL_FIELD_MAX_RING_PAGE_ORDER  "max-ring-page-order"
#define VACCEL_FIELD_RING_PAGE_ORDER      "ring-page-order"
#define VACCEL_FIELD_QUEUE_FMT            "queue-%u"
#define VACCEL_FIELD_RING_REF             "ring-ref"
#define VACCEL_FIELD_RING_REF_FMT         "ring-ref%u"
#define VACCEL_FIELD_EVENT_CHANNEL        "event-channel"
#define VACCEL_FIELD_EVT_RING_PAGE_ORDER  "evt-ring-page-order"
#define VACCEL_FIELD_EVT_RING_REF         "evt-ring-ref"
#define VACCEL_FIELD_EVT_RING_REF_FMT     "evt-ring-ref%u"
#define VACCEL_FIELD_EVT_EVENT_CHANNEL    "evt-event-channel"

#define VACCEL_FIELD_ENGINE               "engine"
#define VACCEL_FIELD_FEATURE_OPS          "feature-ops"
#define VACCEL_FIELD_COMPRESS_ALGS        "compress-algs"
#define VACCEL_FIELD_COMPRESS_LEVELS      "compress-levels"
#define VACCEL_FIELD_DIGEST_ALGS          "digest-algs"
#define VACCEL_FIELD_AEAD_ALGS            "aead-algs"
#define VACCEL_FIELD_FEATURE_BLOBS        "feature-blobs"
#define VACCEL_FIELD_FEATURE_IOPF         "feature-iopf"

#define VACCEL_FIELD_MAX_REGIONS          "max-regions"
#define VACCEL_FIELD_MAX_REGION_PAGES     "max-region-pages"
#define VACCEL_FIELD_MAX_MAPPED_PAGES     "max-mapped-pages"
#define VACCEL_FIELD_MAX_MAPPINGS         "max-mappings"
#define VACCEL_FIELD_MAX_BLOBS            "max-blobs"
#define VACCEL_FIELD_MAX_BLOB_PAGES       "max-blob-pages"
#define VACCEL_FIELD_MAX_SESSIONS         "max-sessions"
#define VACCEL_FIELD_MAX_IN_FLIGHT        "max-in-flight"
#define VACCEL_FIELD_MAX_SG_ENTRIES       "max-sg-entries"
#define VACCEL_FIELD_MAX_OP_BYTES         "max-op-bytes"
#define VACCEL_FIELD_COMPRESS_MAX_BYTES   "compress-max-bytes"
#define VACCEL_FIELD_IOVA_BITS            "iova-bits"
#define VACCEL_FIELD_FAULT_TIMEOUT_MS     "fault-timeout-ms"

/* Operation family names in feature-ops. */
#define VACCEL_FAMILY_COMPRESS            "compress"
#define VACCEL_FAMILY_DECOMPRESS          "decompress"
#define VACCEL_FAMILY_DIGEST              "digest"
#define VACCEL_FAMILY_AEAD                "aead"
#define VACCEL_FAMILY_COPY                "copy"
#define VACCEL_FAMILY_FILL                "fill"
#define VACCEL_FAMILY_COMPARE             "compare"
#define VACCEL_FAMILY_CRC32C              "crc32c"
#define VACCEL_FEATURE_OPS_ALL \
    "compress,decompress,digest,aead,copy,fill,compare,crc32c"

/*
 ******************************************************************************
 *                       CONSTANTS, LIMITS AND DEFAULTS
 ******************************************************************************
 */
/* Grants, rings, regions and IOVA alignment use 4 KiB pages on every arch. */
#define VACCEL_PAGE_SHIFT                 12
#define VACCEL_PAGE_SIZE                  (1u << VACCEL_PAGE_SHIFT)

/* Protocol maxima: a backend never advertises more. */
#define VACCEL_MAX_QUEUES                 64
#define VACCEL_MAX_RING_PAGE_ORDER        4   /* 16 pages, 512 slots */
#define VACCEL_MAX_RING_PAGES             (1u << VACCEL_MAX_RING_PAGE_ORDER)

/* Defaults of the limit nodes (in effect when a node is absent). */
#define VACCEL_DEFAULT_MAX_REGIONS        256u
#define VACCEL_DEFAULT_MAX_REGION_PAGES   65536u          /* 256 MiB */
#define VACCEL_DEFAULT_MAX_MAPPED_PAGES   262144u         /* 1 GiB */
#define VACCEL_DEFAULT_MAX_BLOBS          64u
#define VACCEL_DEFAULT_MAX_BLOB_PAGES     65536u          /* 256 MiB */
#define VACCEL_DEFAULT_MAX_SESSIONS       1024u
#define VACCEL_DEFAULT_MAX_IN_FLIGHT      1024u
#define VACCEL_DEFAULT_MAX_SG_ENTRIES     256u            /* one 4 KiB page */
#define VACCEL_DEFAULT_MAX_OP_BYTES       (16u << 20)     /* 16 MiB */
#define VACCEL_DEFAULT_IOVA_BITS          48u
#define VACCEL_MIN_IOVA_BITS              13u
#define VACCEL_MAX_IOVA_BITS              63u
#define VACCEL_DEFAULT_FAULT_TIMEOUT_MS   10000u

/* A request that faults more often than this completes with -XEN_EFAULT. */
#define VACCEL_MAX_FAULTS_PER_REQUEST     16u

/* Blobs are allocated and migrated in chunks of this size. */
#define VACCEL_BLOB_CHUNK_SHIFT           21
#define VACCEL_BLOB_CHUNK_SIZE            (1u << VACCEL_BLOB_CHUNK_SHIFT)

/* Algorithm parameters. */
#define VACCEL_AEAD_KEY_LEN               32u   /* both v1 AEAD algorithms */
#define VACCEL_AEAD_NONCE_LEN             12u
#define VACCEL_AEAD_TAG_LEN               16u
#define VACCEL_SHA256_LEN                 32u
#define VACCEL_SHA512_LEN                 64u
#define VACCEL_CRC32C_CHECK               0xe3069283u /* of "123456789" */

/*
 ******************************************************************************
 *                                RING SIZES
 ******************************************************************************
 * Request and event rings both have a 64-octet header and 64-octet slots,
 * so both hold the same number of slots per page order: the largest power
 * of two not above (PAGE_SIZE * 2^order - 64) / 64.
 *
 *   order   pages   slots
 *     0       1       32
 *     1       2       64
 *     2       4      128
 *     3       8      256
 *     4      16      512
 */
#define VACCEL_RING_BYTES(order)      ((size_t)VACCEL_PAGE_SIZE << (order))
#define VACCEL_RING_SIZE(order)       __CONST_RING_SIZE(vaccel, VACCEL_RING_BYTES(order))
#define VACCEL_EVT_RING_SIZE(order)   __CONST_RING_SIZE(vaccel_evt, VACCEL_RING_BYTES(order))

/*
 ******************************************************************************
 *                             STATUS RETURN CODES
 ******************************************************************************
 * A response's status is 0 on success or a negated XEN_E* value from
 * xen/errno.h (the numbers are Linux x86's).  Version 1 uses:
 *
 *  0               success
 *  -XEN_EINVAL     malformed request: non-zero reserved field or flag bit,
 *                  bad alignment, bad length, bad level, IOVA range beyond
 *                  iova-bits or wrapping, key length wrong, unused operand
 *                  not zero, operands that overlap where the operation
 *                  forbids it, ...
 *  -XEN_ENOSYS     unknown operation code
 *  -XEN_EOPNOTSUPP operation family, algorithm or feature not offered
 *  -XEN_EFAULT     an operand (or scatter list) touches an IOVA where
 *                  nothing is mapped; response fault_iova / fault_access
 *                  tell where, and a fault record is posted
 *  -XEN_EACCES     an output operand lies in a read-only region; or a grant
 *                  could not be mapped (invalid, not granted to the backend,
 *                  read-only where write was asked); value = page index
 *  -XEN_ENOENT     no such region, session, blob or pending fault
 *  -XEN_EEXIST     IOVA range overlaps an existing region or blob
 *  -XEN_EBUSY      object still used by a request in flight; or
 *                  max-in-flight reached
 *  -XEN_EMFILE     count limit reached (max-regions, max-sessions,
 *                  max-blobs)
 *  -XEN_ENOMEM     page or mapping limit reached (max-mapped-pages,
 *                  max-mappings, max-blob-pages) or backend out of memory
 *  -XEN_E2BIG      operand above max-op-bytes, COMPRESS source above its
 *                  level's compress-max-bytes, scatter list above
 *                  max-sg-entries, region above max-region-pages
 *  -XEN_ENOSPC     output does not fit in dst; aux = bytes needed if known,
 *                  else 0
 *  -XEN_ENODATA    DECOMPRESS: input ends before the end of the stream
 *  -XEN_EILSEQ     DECOMPRESS: input is not a valid stream (incl. bad
 *                  checksum)
 *  -XEN_EBADMSG    AEAD_DECRYPT: authentication tag mismatch
 *  -XEN_ETIMEDOUT  a recoverable fault was not answered in fault-timeout-ms
 *  -XEN_EIO        engine failure or engine reset
 *  -XEN_ENOTCONN   never sent by a backend: the frontend's status for a
 *                  request lost with its connection (see Recovery)
 *
 * A frontend must treat any other negative status as a failure of that
 * request only.
 */

/*
 ******************************************************************************
 *                               ALGORITHMS
 ******************************************************************************
 * One number space for all families; the code also selects the session
 * kind in SESSION_CREATE.
 *
 *  code  name                 family      format / standard
 *  1     deflate              compress    raw DEFLATE, RFC 1951
 *  2     zlib                 compress    RFC 1950
 *  3     gzip                 compress    RFC 1952, one member
 *  4     zstd                 compress    Zstandard frame, RFC 8878
 *  5     lz4                  compress    LZ4 frame format
 *  16    sha256               digest      FIPS 180-4
 *  17    sha512               digest      FIPS 180-4
 *  32    aes-256-gcm          aead        NIST SP 800-38D, 96-bit nonce,
 *                                         128-bit tag
 *  33    chacha20-poly1305    aead        RFC 8439
 */
#define VACCEL_ALG_NONE                   0
#define VACCEL_ALG_DEFLATE                1
#define VACCEL_ALG_ZLIB                   2
#define VACCEL_ALG_GZIP                   3
#define VACCEL_ALG_ZSTD                   4
#define VACCEL_ALG_LZ4                    5
#define VACCEL_ALG_SHA256                 16
#define VACCEL_ALG_SHA512                 17
#define VACCEL_ALG_AES_256_GCM            32
#define VACCEL_ALG_CHACHA20_POLY1305      33

#define VACCEL_ALG_NAME_DEFLATE           "deflate"
#define VACCEL_ALG_NAME_ZLIB              "zlib"
#define VACCEL_ALG_NAME_GZIP              "gzip"
#define VACCEL_ALG_NAME_ZSTD              "zstd"
#define VACCEL_ALG_NAME_LZ4               "lz4"
#define VACCEL_ALG_NAME_SHA256            "sha256"
#define VACCEL_ALG_NAME_SHA512            "sha512"
#define VACCEL_ALG_NAME_AES_256_GCM       "aes-256-gcm"
#define VACCEL_ALG_NAME_CHACHA20_POLY1305 "chacha20-poly1305"

#define VACCEL_ALG_IS_COMPRESS(a)  ((a) >= VACCEL_ALG_DEFLATE && (a) <= VACCEL_ALG_LZ4)
#define VACCEL_ALG_IS_DIGEST(a)    ((a) == VACCEL_ALG_SHA256 || (a) == VACCEL_ALG_SHA512)
#define VACCEL_ALG_IS_AEAD(a)      ((a) == VACCEL_ALG_AES_256_GCM || \
                                    (a) == VACCEL_ALG_CHACHA20_POLY1305)

/* Compression level 0 selects the algorithm's default level. */
#define VACCEL_LEVEL_DEFAULT              0

/*
 ******************************************************************************
 *                      THE I/O ADDRESS SPACE AND OPERANDS
 ******************************************************************************
 *
 * Each device has one I/O address space, shared by all its queues.  The
 * frontend places granted regions (MAP_REGION) and blobs (BLOB_CREATE,
 * BLOB_MIGRATE) in it at page-aligned IOVAs it chooses; ranges never
 * overlap.  IOVA page 0 ([0, VACCEL_PAGE_SIZE)) can never be mapped.
 * Every IOVA a request carries, and every IOVA stored in guest memory that
 * the backend follows (scatter list entries), is an address in this space,
 * never a guest physical address or a grant reference.
 *
 * An operand is a struct vaccel_seg { iova, len }: len bytes starting at
 * iova, which may span several adjacent regions and blobs but no hole.
 * A used operand with len 0 is empty (no memory is touched, iova is
 * ignored).  An operand slot an operation does not use must be all zero.
 *
 * Indirect operands: when the request's VACCEL_REQ_F_SRC_INDIRECT (or
 * _DST_INDIRECT) flag is set, the operand in the src (dst) slot describes a
 * scatter list instead of data: iova is the IOVA of an array of struct
 * vaccel_seg, 8-byte aligned, and len is the byte size of that array, a
 * non-zero multiple of 16 of at most max-sg-entries * 16.  The operand's
 * data is the concatenation, in order, of the entries, each a direct
 * {iova, len} (entries with len 0 are allowed and skipped; entries are never
 * indirect themselves).  The sum of the entries' lengths must not overflow
 * and is bounded by max-op-bytes.  The backend reads the list once, into
 * its own memory, before validating and using it; the list must be readable
 * memory of the I/O address space (it faults like data does).
 *
 * Resolution before execution: the backend resolves every operand (and
 * reads every scatter list) of a request before the operation has any
 * effect.  A fault, a permission or a limit error is therefore always
 * reported before anything was written, and retrying after a fault
 * restarts the request from the beginning.
 *
 * Faults.  If any byte of an operand (or a scatter list) is not mapped the
 * request does not execute:
 *  o without VACCEL_REQ_F_IOPF it completes with -XEN_EFAULT (response
 *    fault_iova = first unmapped IOVA, fault_access = the access needed),
 *    and an informational VACCEL_EVT_FAULT record (fault_id 0) is posted if
 *    the event ring has room;
 *  o with VACCEL_REQ_F_IOPF (feature-iopf = "1") the request is held and a
 *    VACCEL_EVT_FAULT record with VACCEL_EVT_FAULT_F_RECOVERABLE and a
 *    non-zero fault_id is posted.  The frontend maps the range (MAP_REGION)
 *    and answers with FAULT_RESPONSE(fault_id, 0): the backend resolves the
 *    request again (it may fault again with a new fault_id, at most
 *    VACCEL_MAX_FAULTS_PER_REQUEST times), or answers with a negative
 *    status, which the held request then completes with.  No answer within
 *    fault-timeout-ms: -XEN_ETIMEDOUT.  If the event ring has no free slot
 *    the request completes with -XEN_EFAULT at once, as if not recoverable.
 *
 * Ordering.  Within one queue, the backend consumes requests in ring order
 * and every control operation takes effect before the backend consumes the
 * next request of that queue; so MAP_REGION followed by a data request on
 * the same queue works without waiting.  Data operations may complete in
 * any order.  Across queues there is no ordering: wait for the response.
 * An object (region, session, blob) used by a request counts as in use
 * from the moment the request is consumed until its response is posted.
 */

/*
 ******************************************************************************
 *                              REQUEST CODES
 ******************************************************************************
 * Control operations: 0x00 - 0x3f.  Data operations: 0x40 - 0x7f.
 * Other codes are unknown in version 1 (-XEN_ENOSYS).
 */
#define VACCEL_OP_NOP                     0x00
#define VACCEL_OP_MAP_REGION              0x01
#define VACCEL_OP_UNMAP_REGION            0x02
#define VACCEL_OP_SESSION_CREATE          0x03
#define VACCEL_OP_SESSION_DESTROY         0x04
#define VACCEL_OP_BLOB_CREATE             0x05
#define VACCEL_OP_BLOB_DESTROY            0x06
#define VACCEL_OP_BLOB_MIGRATE            0x07
#define VACCEL_OP_BLOB_READBACK           0x08
#define VACCEL_OP_FAULT_RESPONSE          0x09

#define VACCEL_OP_COMPRESS                0x40
#define VACCEL_OP_DECOMPRESS              0x41
#define VACCEL_OP_DIGEST                  0x42
#define VACCEL_OP_AEAD_ENCRYPT            0x43
#define VACCEL_OP_AEAD_DECRYPT            0x44
#define VACCEL_OP_COPY                    0x45
#define VACCEL_OP_FILL                    0x46
#define VACCEL_OP_COMPARE                 0x47
#define VACCEL_OP_CRC32C                  0x48

#define VACCEL_OP_IS_DATA(op)             ((op) >= 0x40 && (op) <= 0x7f)

/*
 ******************************************************************************
 *                          REQUEST AND RESPONSE LAYOUT
 ******************************************************************************
 *
 * Requests, responses and events are 64 octets.  They use only fixed-width
 * types, every field is naturally aligned at an explicit offset, and all
 * padding is explicit, so the layout is the same on x86_32, x86_64, arm32
 * and arm64 and no "protocol" node is needed.  (On x86_32 uint64_t is only
 * 4-byte aligned inside structures, which changes the structures' alignment
 * but, with every 64-bit field already at a multiple of 8, not a single
 * offset or size; the static assertions below check this on every build.)
 *
 * Byte order.  Every multi-octet field in shared memory is in the native
 * byte order of the ABI the frontend and backend share, as the indices of
 * xen/io/ring.h and the fields of blkif and netif are: the request and
 * event rings (headers and slots), scatter lists, page directories and
 * any other structure this header places in memory both sides see.  Both
 * sides read and write them as plain integers; neither converts.  On every
 * architecture Xen supports (x86, Arm, RISC-V and little-endian PowerPC)
 * that order is little-endian.  What this header defines octet by octet
 * has no byte order and is the same on every ABI: the dirty bitmap of
 * BLOB_MIGRATE, AEAD keys, nonces and tags, and the data of operands.
 * Where an integer field is spread over data octets (FILL's pattern), the
 * operation says which octet comes from which bits.
 *
 * Request, common header (all operations):
 *
 *   offset size  field
 *    0      8    id       private frontend value, echoed in the response
 *    8      1    op       VACCEL_OP_*
 *    9      1    alg      VACCEL_ALG_* for COMPRESS, DECOMPRESS, DIGEST,
 *                         SESSION_CREATE; 0 otherwise
 *   10      2    flags    VACCEL_REQ_F_* (bits 0-7, generic) and
 *                         operation flags (bits 8-15); others 0
 *   12      4    handle   session id (DIGEST, AEAD_*, SESSION_DESTROY),
 *                         blob id (BLOB_DESTROY, BLOB_READBACK); else 0
 *   16     48    u        operation-specific body, below
 *
 * Response (all operations):
 *
 *    0      8    id            echoed
 *    8      1    op            echoed
 *    9      1    fault_access  VACCEL_ACCESS_* if status is -XEN_EFAULT
 *   10      2    reserved      0
 *   12      4    status        int32_t: 0 or -XEN_E*
 *   16      8    len           bytes produced (written to dst); 0 on error
 *   24      8    value         operation-specific result
 *   32      8    aux           operation-specific; with -XEN_ENOSPC the
 *                              bytes needed if known, else 0
 *   40      8    fault_iova    first unmapped IOVA if status is -XEN_EFAULT
 *   48     16    reserved      0
 *
 * Backends zero a response slot before filling it.  Every field not given
 * a meaning for an operation and status is 0.
 *
 * Validation: a request whose reserved fields, unused operand slots, unused
 * header fields (alg, handle) or undefined flag bits are not zero completes
 * with -XEN_EINVAL without any effect.
 */

/*
 * Generic request flags (bits 0-7).  They apply to data operations only
 * (the indirect flags only to an operand slot the operation uses); set on
 * a control operation they are -XEN_EINVAL.
 */
#define VACCEL_REQ_F_SRC_INDIRECT         (1u << 0) /* src is a scatter list */
#define VACCEL_REQ_F_DST_INDIRECT         (1u << 1) /* dst is a scatter list */
#define VACCEL_REQ_F_IOPF                 (1u << 2) /* recoverable faults */
#define VACCEL_REQ_F_GENERIC_MASK         0x00ffu

/* Access kinds (fault records and responses). */
#define VACCEL_ACCESS_READ                1
#define VACCEL_ACCESS_WRITE               2

/* An operand: len bytes at iova; or, indirect, a scatter list of len bytes. */
struct vaccel_seg {
    uint64_t iova;
    uint64_t len;
};
typedef struct vaccel_seg vaccel_seg_t;

/*
 *---------------------------- Control operations ------------------------------
 *
 * NOP
 *   Body all zero.  Completes with status 0.  Useful to test a queue and to
 *   measure round trips.
 *
 * MAP_REGION: register granted memory at an IOVA.
 *
 *   16  8  iova      page aligned, >= VACCEL_PAGE_SIZE
 *   24  8  len       bytes, a non-zero multiple of VACCEL_PAGE_SIZE,
 *                    at most max-region-pages pages
 *   32  4  gref_dir  grant of the first page directory page
 *   36 28  reserved
 *   flags: VACCEL_MAP_F_WRITE: the region is writable (its grants must be
 *          read-write).  Otherwise read-only: a request whose output
 *          operand touches it gets -XEN_EACCES.
 *
 *   The page directory (as displif's gref directory) is a chain of granted
 *   pages (read-only is enough), each a struct vaccel_page_directory: the
 *   grant of the next directory page, then VACCEL_DIR_GREFS_PER_PAGE grants
 *   of region pages.  Exactly len / VACCEL_PAGE_SIZE grants are read,
 *   filling each directory page before following its next pointer; the
 *   next pointer of the last page used must be 0 ("gref 0 terminates") and
 *   a 0 next pointer before all grants were read is -XEN_EINVAL, as is a
 *   grant value of 0 among the region's pages.  Each grant may be listed
 *   once per region: a grant listed again is -XEN_EINVAL with value = the
 *   index of the first page that repeats an earlier one (so value >= 1;
 *   the other directory errors leave value 0).  The chain thus has at most
 *   ceil(max-region-pages / VACCEL_DIR_GREFS_PER_PAGE) pages.  The backend
 *   maps the directory pages only for the duration of the request; the
 *   frontend may end their grants after the response.  The region's pages
 *   are mapped once (persistently) until UNMAP_REGION, BLOB_MIGRATE or
 *   disconnect; the frontend must not end their grants before.
 *   Errors: -XEN_EEXIST (overlap), -XEN_EMFILE, -XEN_ENOMEM (including
 *   max-mappings), -XEN_E2BIG, -XEN_EINVAL (directory; value = index of the
 *   first repeated grant, if that was the reason), -XEN_EACCES (value =
 *   index of the first page that failed to map).
 *   Response: value = number of pages mapped.
 *
 * UNMAP_REGION: remove a region.
 *
 *   16  8  iova      start of the region
 *   24  8  len       its length, exactly
 *   32 32  reserved
 *
 *   -XEN_ENOENT if no region starts at iova with that length (blobs are
 *   removed with BLOB_DESTROY), -XEN_EBUSY if a request in flight uses it.
 *   On success the region's grants are unmapped before the response is
 *   posted: the frontend may then end them.
 *
 * SESSION_CREATE: create a session.
 *
 *   header alg: an AEAD algorithm (key session) or a digest algorithm
 *               (streaming digest state)
 *   16 16  key       AEAD: {iova, VACCEL_AEAD_KEY_LEN} of the key in guest
 *                    memory (direct; read once and copied into the session;
 *                    the frontend may scrub its copy after the response).
 *                    Digest: {0, 0}.
 *   32 32  reserved
 *
 *   Response: value = session id (non-zero, unique among the device's
 *   live sessions).  Errors: -XEN_EOPNOTSUPP, -XEN_EINVAL (key length),
 *   -XEN_EFAULT, -XEN_EMFILE.  Session ids are valid on every queue of the
 *   device and only there.
 *
 * SESSION_DESTROY: header handle = session id; body all zero.  The key is
 *   wiped.  -XEN_ENOENT if unknown, -XEN_EBUSY if a request in flight uses
 *   it.
 *
 * BLOB_CREATE (feature-blobs): backend memory at an IOVA.
 *
 *   16  8  iova      page aligned, >= VACCEL_PAGE_SIZE
 *   24  8  len       non-zero multiple of VACCEL_PAGE_SIZE; at most
 *                    max-region-pages pages; memory is reserved in whole
 *                    VACCEL_BLOB_CHUNK_SIZE chunks (counted that way
 *                    against max-blob-pages)
 *   32 32  reserved
 *
 *   The blob is zero filled, readable and writable, and occupies
 *   [iova, iova + len) until BLOB_DESTROY or disconnect.
 *   Response: value = blob id (non-zero).  Errors: -XEN_EEXIST,
 *   -XEN_EMFILE, -XEN_ENOMEM, -XEN_E2BIG.
 *
 * BLOB_DESTROY (feature-blobs): header handle = blob id; body all zero.
 *   Frees the blob and its IOVA range.  -XEN_ENOENT, -XEN_EBUSY.
 *
 * BLOB_MIGRATE (feature-blobs): move a region into a new blob.
 *
 *   16  8  iova         start of an existing region
 *   24  8  len          its length, exactly
 *   32  8  bitmap_iova  IOVA of the dirty bitmap, readable, outside the
 *                       region: ceil(len / VACCEL_PAGE_SIZE / 8) octets,
 *                       an array of octets, not of integers: bit i is
 *                       (octet[i / 8] >> (i % 8)) & 1, set if region
 *                       page i holds data
 *   40 24  reserved
 *
 *   The backend creates a blob of len bytes, copies every page whose bit
 *   is set (working through the region VACCEL_BLOB_CHUNK_SIZE at a time,
 *   skipping chunks without a set bit; pages without a set bit read as
 *   zero), then makes [iova, iova + len) point at the blob and unmaps the
 *   region's grants; the frontend may end them after the response.  The
 *   region keeps its IOVA range, becomes writable, and is a blob from then
 *   on (BLOB_DESTROY, not UNMAP_REGION).  On any error nothing changes.
 *   Response: value = blob id, len = bytes copied.  Errors: as BLOB_CREATE,
 *   plus -XEN_ENOENT (no such region), -XEN_EBUSY (region in use).
 *
 * BLOB_READBACK (feature-blobs): copy a blob into granted pages.
 *
 *   header handle = blob id
 *   16  4  gref_dir     page directory (as MAP_REGION) of exactly
 *                       blob length / VACCEL_PAGE_SIZE read-write grants
 *   20 44  reserved
 *   flags: VACCEL_READBACK_F_REMAP: afterwards the blob's IOVA range maps
 *          these granted pages as a writable region and the blob is freed
 *          (the inverse of BLOB_MIGRATE).  Without it the backend unmaps
 *          the pages after the copy and the blob stays.
 *
 *   Response: len = bytes copied.  Errors: -XEN_ENOENT, -XEN_EBUSY,
 *   -XEN_EACCES, -XEN_EINVAL (directory, value as MAP_REGION), -XEN_EMFILE /
 *   -XEN_ENOMEM (REMAP beyond region limits, or max-mappings; nothing
 *   changes).
 *
 * FAULT_RESPONSE: answer a recoverable fault.
 *
 *   16  4  fault_id     from the VACCEL_EVT_FAULT record
 *   20  4  status       int32_t: 0 = range now mapped, retry; negative
 *                       -XEN_E* = complete the held request with it
 *   24 40  reserved
 *
 *   Response: status 0, or -XEN_ENOENT if no request is held on fault_id
 *   (it timed out or the id is wrong), -XEN_EINVAL for a positive status.
 *   May be sent on any queue; does not count against max-in-flight.
 */

/* MAP_REGION flags. */
#define VACCEL_MAP_F_WRITE                (1u << 8)
/* BLOB_READBACK flags. */
#define VACCEL_READBACK_F_REMAP           (1u << 8)

/*
 * Page directory page (MAP_REGION, BLOB_READBACK).  Exactly one 4 KiB page.
 *
 *    0  4  gref_dir_next_page   next directory page, 0 = none
 *    4  4  gref[0]
 *   ...
 *  4092 4  gref[1022]
 */
#define VACCEL_DIR_GREFS_PER_PAGE \
    ((VACCEL_PAGE_SIZE - sizeof(grant_ref_t)) / sizeof(grant_ref_t))

struct vaccel_page_directory {
    grant_ref_t gref_dir_next_page;
    grant_ref_t gref[(VACCEL_PAGE_SIZE / 4) - 1];
};

struct vaccel_req_map_region {
    uint64_t    iova;
    uint64_t    len;
    grant_ref_t gref_dir;
    uint32_t    reserved0;
    uint64_t    reserved1[3];
};

struct vaccel_req_unmap_region {
    uint64_t iova;
    uint64_t len;
    uint64_t reserved[4];
};

struct vaccel_req_session_create {
    struct vaccel_seg key;
    uint64_t          reserved[4];
};

struct vaccel_req_blob_create {
    uint64_t iova;
    uint64_t len;
    uint64_t reserved[4];
};

struct vaccel_req_blob_migrate {
    uint64_t iova;
    uint64_t len;
    uint64_t bitmap_iova;
    uint64_t reserved[3];
};

struct vaccel_req_blob_readback {
    grant_ref_t gref_dir;
    uint32_t    reserved0;
    uint64_t    reserved1[5];
};

struct vaccel_req_fault_response {
    uint32_t fault_id;
    int32_t  status;
    uint64_t reserved[5];
};

/*
 *------------------------------ Data operations -------------------------------
 *
 * Every data operation body starts with two operand slots:
 *
 *   16 16  src   input  (VACCEL_REQ_F_SRC_INDIRECT may apply)
 *   32 16  dst   output (VACCEL_REQ_F_DST_INDIRECT may apply); dst.len is
 *                the capacity; must lie in writable memory
 *   48 16  operation parameters (below), else reserved
 *
 * Overlap.  COMPRESS, DECOMPRESS, AEAD_ENCRYPT and AEAD_DECRYPT refuse,
 * with -XEN_EINVAL and no effect, a dst that shares an octet of I/O
 * address space with src or whose scatter entries share octets with one
 * another (AEAD in place aside, below).  The other operations accept
 * overlap: DIGEST reads all of src before it writes dst, COMPARE only
 * reads, COPY is memmove when each operand is one range; otherwise the
 * shared octets of dst are unspecified.  A backend sees overlap only
 * through the same IOVAs of one region or blob: one guest page behind two
 * IOVAs (two regions listing one grant, a frame granted under two refs) is
 * not refused, and then dst is unspecified (never a backend failure).
 * Response len = bytes written to dst.
 *
 * COMPRESS: alg = compress algorithm.
 *   48  4  level     int32_t, 0 = default, else within compress-levels
 *   52 12  reserved
 *   Compresses src into one complete stream (one gzip member, one zstd /
 *   lz4 frame; header fields such as gzip mtime are unspecified) in dst.
 *   Does not fit: -XEN_ENOSPC, aux = worst-case compressed size of src.
 *   Streams from separate requests may be concatenated: gzip, zstd and lz4
 *   tools accept concatenated members / frames.
 *
 * DECOMPRESS: alg = compress algorithm.  48..63 reserved.
 *   Decompresses the stream starting at the beginning of src into dst
 *   (dst.len is the output bound).  Bytes after the end of the stream are
 *   allowed and ignored.  Response: len = bytes written, value = bytes of
 *   src consumed (the stream's compressed length), so a caller can step
 *   through concatenated streams.  Errors: -XEN_ENOSPC (aux = decompressed
 *   size if the stream records it, e.g. zstd frame content size, else 0),
 *   -XEN_ENODATA (src ends inside the stream), -XEN_EILSEQ (corrupt).
 *
 * DIGEST: alg = digest algorithm.  handle = 0 (one-shot) or the id of a
 *   digest session of the same algorithm.  48..63 reserved.
 *   flags: VACCEL_DIGEST_F_MORE (session only): absorb src and produce
 *   nothing (dst must be {0, 0}, response len 0).  Without it: absorb src,
 *   write the digest (32 or 64 octets) to the start of dst, response len =
 *   digest size; a session is then reset for the next message.  At most one
 *   request per session may be in flight (else -XEN_EBUSY).
 *   dst too small: -XEN_ENOSPC, aux = digest size.
 *
 * AEAD_ENCRYPT / AEAD_DECRYPT: handle = AEAD session id; alg = 0.
 *   48 12  nonce     96-bit IV / nonce, used as is
 *   60  4  aad_len   uint32_t, octets of additional data
 *   src = AAD (aad_len octets) || text.  The AAD is authenticated, not
 *   encrypted, and is not copied to dst.
 *   Encrypt: text = plaintext (P octets); dst receives ciphertext (P) ||
 *   tag (VACCEL_AEAD_TAG_LEN); len = P + 16.
 *   Decrypt: text = ciphertext || tag (src.len >= aad_len + 16); dst
 *   receives the plaintext; len = src.len - aad_len - 16.  Tag mismatch:
 *   -XEN_EBADMSG, and the backend zero-fills the plaintext length of dst
 *   before responding (no unauthenticated plaintext is released).
 *   In place is allowed: dst may start exactly where the text starts in
 *   src, so that an octet shared by the two is text octet i of src and
 *   octet i of dst (with scatter lists: each dst entry lies exactly over
 *   the text octets it receives); any other overlap is -XEN_EINVAL.
 *   aad_len > src.len: -XEN_EINVAL.  dst too small: -XEN_ENOSPC, aux =
 *   needed.  Never reuse a nonce with one key.
 *
 * COPY: 48..63 reserved.  Copies src to dst; dst.len >= src.len, else
 *   -XEN_ENOSPC (aux = src.len).  len = src.len.
 *
 * FILL: src slot must be {0, 0}.
 *   48  8  pattern   uint64_t
 *   56  8  reserved
 *   Fills all of dst.  Without VACCEL_FILL_F_PATTERN64 every octet is the
 *   low octet of pattern (the other 56 bits must be 0); with it octet i of
 *   dst (counted from the start of the operand) is
 *   (pattern >> (8 * (i % 8))) & 0xff, so the pattern's octets repeat from
 *   the least significant up whatever the byte order (on little-endian
 *   ABIs, as they lie in the request).  len = dst.len.
 *
 * COMPARE: src slot = a, dst slot = b (read, not written; the indirect
 *   flags apply as usual).  48..63 reserved.
 *   value = 0 if a and b are equal (same length, same octets), else 1 and
 *   aux = offset of the first difference (min(a.len, b.len) if one is a
 *   prefix of the other).  len = 0.
 *
 * CRC32C: dst slot must be {0, 0}.
 *   48  4  seed      uint32_t
 *   52 12  reserved
 *   value = CRC-32C (Castagnoli, reflected) of src continued from seed,
 *   with the usual pre- and post-inversion applied inside, so seed 0
 *   starts a new CRC and crc32c(crc32c(0, A), B) == crc32c(0, A || B)
 *   (the convention of RFC 3720 and of Google's crc32c::Extend).
 *   crc32c(0, "123456789") = VACCEL_CRC32C_CHECK.  len = 0.
 */

/* DIGEST flags. */
#define VACCEL_DIGEST_F_MORE              (1u << 8)
/* FILL flags. */
#define VACCEL_FILL_F_PATTERN64           (1u << 8)

/* Generic view of every data operation body. */
struct vaccel_req_data {
    struct vaccel_seg src;
    struct vaccel_seg dst;
    uint8_t           param[16];
};

struct vaccel_req_compress {
    struct vaccel_seg src;
    struct vaccel_seg dst;
    int32_t           level;
    uint32_t          reserved0;
    uint64_t          reserved1;
};

struct vaccel_req_aead {
    struct vaccel_seg src;
    struct vaccel_seg dst;
    uint8_t           nonce[VACCEL_AEAD_NONCE_LEN];
    uint32_t          aad_len;
};

struct vaccel_req_fill {
    struct vaccel_seg reserved0;   /* src slot, must be zero */
    struct vaccel_seg dst;
    uint64_t          pattern;
    uint64_t          reserved1;
};

struct vaccel_req_compare {
    struct vaccel_seg a;           /* src slot */
    struct vaccel_seg b;           /* dst slot, read only */
    uint64_t          reserved[2];
};

struct vaccel_req_crc32c {
    struct vaccel_seg src;
    struct vaccel_seg reserved0;   /* dst slot, must be zero */
    uint32_t          seed;
    uint32_t          reserved1;
    uint64_t          reserved2;
};

struct vaccel_request {
    uint64_t id;
    uint8_t  op;
    uint8_t  alg;
    uint16_t flags;
    uint32_t handle;
    union {
        struct vaccel_req_map_region     map_region;
        struct vaccel_req_unmap_region   unmap_region;
        struct vaccel_req_session_create session_create;
        struct vaccel_req_blob_create    blob_create;
        struct vaccel_req_blob_migrate   blob_migrate;
        struct vaccel_req_blob_readback  blob_readback;
        struct vaccel_req_fault_response fault_response;
        struct vaccel_req_data           data;  /* any data operation */
        struct vaccel_req_compress       compress;
        struct vaccel_req_data           decompress;
        struct vaccel_req_data           digest;
        struct vaccel_req_aead           aead;
        struct vaccel_req_data           copy;
        struct vaccel_req_fill           fill;
        struct vaccel_req_compare        compare;
        struct vaccel_req_crc32c         crc32c;
        uint8_t                          reserved[48];
    } u;
};
typedef struct vaccel_request vaccel_request_t;

/*
 * Response value / aux per operation (status 0 unless noted):
 *
 *   op               len              value            aux
 *   NOP              0                0                0
 *   MAP_REGION       0                pages mapped     0
 *   SESSION_CREATE   0                session id       0
 *   BLOB_CREATE      0                blob id          0
 *   BLOB_MIGRATE     bytes copied     blob id          0
 *   BLOB_READBACK    bytes copied     0                0
 *   COMPRESS         output bytes     0                needed (ENOSPC)
 *   DECOMPRESS       output bytes     input consumed   needed (ENOSPC)
 *   DIGEST           digest size / 0  0                needed (ENOSPC)
 *   AEAD_*           output bytes     0                needed (ENOSPC)
 *   COPY, FILL       bytes written    0                needed (ENOSPC)
 *   COMPARE          0                0 equal, 1 not   first difference
 *   CRC32C           0                crc              0
 *   others           0                0                0
 */
struct vaccel_response {
    uint64_t id;
    uint8_t  op;
    uint8_t  fault_access;
    uint16_t reserved0;
    int32_t  status;
    uint64_t len;
    uint64_t value;
    uint64_t aux;
    uint64_t fault_iova;
    uint64_t reserved1[2];
};
typedef struct vaccel_response vaccel_response_t;

/*
 * Generate the request ring types: vaccel_sring_t, vaccel_front_ring_t,
 * vaccel_back_ring_t.  Backends must use RING_COPY_REQUEST (the request is
 * read from shared memory exactly once) and check RING_REQUEST_PROD_OVERFLOW
 * before consuming.
 */
DEFINE_RING_TYPES(vaccel, struct vaccel_request, struct vaccel_response);

/*
 ******************************************************************************
 *                                 EVENTS
 ******************************************************************************
 *
 * Event records, 64 octets:
 *
 *    0  2  type      VACCEL_EVT_*
 *    2  2  flags     type-specific
 *    4  4  reserved
 *    8  8  seq       sequence number of the record on this connection,
 *                    from 0; counts dropped records too, so a gap shows
 *                    that records were lost
 *   16 48  u         type-specific body, reserved octets 0
 *
 * VACCEL_EVT_FAULT: a request touched unmapped IOVA space.
 *   16  8  iova      first unmapped IOVA
 *   24  8  len       bytes from iova to the end of the unmapped part the
 *                    request needs (>= 1): mapping [iova, iova + len)
 *                    resolves this fault
 *   32  8  req_id    the request's id
 *   40  4  fault_id  non-zero iff recoverable: the id for FAULT_RESPONSE
 *   44  2  queue     queue index the request came on
 *   46  1  access    VACCEL_ACCESS_READ or _WRITE
 *   47  1  op        the request's op
 *   48 16  reserved
 *   flags: VACCEL_EVT_FAULT_F_RECOVERABLE: the request is held until
 *   FAULT_RESPONSE (or timeout).  Otherwise informational: the request has
 *   completed or will complete with -XEN_EFAULT.
 *
 * VACCEL_EVT_QUEUE_STOPPED: the backend stopped serving a queue.
 *   16  2  queue
 *   18  2  reserved
 *   20  4  reason    VACCEL_STOP_*
 *   24 40  reserved
 *
 * VACCEL_EVT_ENGINE_RESET: the engine was reset.  Requests executing at the
 *   time completed with -XEN_EIO; regions and sessions are kept.
 *   16  4  failed    uint32_t, number of requests failed with -XEN_EIO
 *   20  4  reserved
 *   24 40  reserved
 *   flags: VACCEL_EVT_RESET_F_BLOBS_LOST: blob contents were lost (the blobs
 *   still exist, zero filled).
 *
 * VACCEL_EVT_QUOTA: a request was refused by a limit (informational, at
 *   most one record per limit per second).
 *   16  4  quota     VACCEL_QUOTA_*
 *   20  4  status    int32_t, the status returned
 *   24  8  limit     the limit in effect
 *   32 32  reserved
 */
#define VACCEL_EVT_FAULT                  1
#define VACCEL_EVT_QUEUE_STOPPED          2
#define VACCEL_EVT_ENGINE_RESET           3
#define VACCEL_EVT_QUOTA                  4

#define VACCEL_EVT_FAULT_F_RECOVERABLE    (1u << 0)
#define VACCEL_EVT_RESET_F_BLOBS_LOST     (1u << 0)

#define VACCEL_STOP_RING_OVERFLOW         1 /* RING_REQUEST_PROD_OVERFLOW */
#define VACCEL_STOP_ENGINE_FAILURE        2 /* the queue's engine context died */

#define VACCEL_QUOTA_REGIONS              1
#define VACCEL_QUOTA_MAPPED_PAGES         2
#define VACCEL_QUOTA_BLOBS                3
#define VACCEL_QUOTA_BLOB_PAGES           4
#define VACCEL_QUOTA_SESSIONS             5
#define VACCEL_QUOTA_IN_FLIGHT            6
#define VACCEL_QUOTA_MAPPINGS             7

struct vaccel_evt_fault {
    uint64_t iova;
    uint64_t len;
    uint64_t req_id;
    uint32_t fault_id;
    uint16_t queue;
    uint8_t  access;
    uint8_t  op;
    uint64_t reserved[2];
};

struct vaccel_evt_queue_stopped {
    uint16_t queue;
    uint16_t reserved0;
    uint32_t reason;
    uint64_t reserved1[5];
};

struct vaccel_evt_engine_reset {
    uint32_t failed;
    uint32_t reserved0;
    uint64_t reserved1[5];
};

struct vaccel_evt_quota {
    uint32_t quota;
    int32_t  status;
    uint64_t limit;
    uint64_t reserved[4];
};

struct vaccel_evt {
    uint16_t type;
    uint16_t flags;
    uint32_t reserved;
    uint64_t seq;
    union {
        struct vaccel_evt_fault         fault;
        struct vaccel_evt_queue_stopped queue_stopped;
        struct vaccel_evt_engine_reset  engine_reset;
        struct vaccel_evt_quota         quota;
        uint8_t                         reserved[48];
    } u;
};
typedef struct vaccel_evt vaccel_evt_t;

/*
 ******************************************************************************
 *                                EVENT RING
 ******************************************************************************
 *
 * Backend-to-frontend only, so not a DEFINE_RING_TYPES ring (that needs a
 * request for every response) but a producer/consumer ring in the same
 * shape: a 64-octet header, then VACCEL_EVT_RING_SIZE(evt-ring-page-order)
 * slots of 64 octets, a power of two, indices free running (uint32_t,
 * wrapping) and masked with size - 1.
 *
 *    0  4  evt_prod    written by the backend: records produced
 *    4  4  evt_event   written by the frontend: notify me when evt_prod
 *                      passes this (as rsp_event)
 *    8  4  evt_cons    written by the frontend: records consumed
 *   12  4  lost        written by the backend: records dropped because
 *                      the ring was full (wrapping counter)
 *   16 48  pad         0
 *   64     ring[]
 *
 * The frontend zeroes the pages and sets evt_event = 1 before granting
 * them.  The backend keeps its own producer index, starting at 0, and
 * never reads evt_prod back.  It reads evt_cons once per record: if
 * evt_prod - evt_cons >= size (full, or a bogus evt_cons) it drops the
 * record and increments lost.  Otherwise it zeroes the slot, fills it,
 * then publishes with VACCEL_EVT_RING_PUSH_AND_CHECK_NOTIFY.  The frontend
 * reads evt_prod, then (after xen_rmb) the records up to it (if
 * evt_prod - evt_cons > size the backend is broken: the frontend resets the
 * device), copies each before use, advances evt_cons, and re-arms with
 * VACCEL_EVT_RING_FINAL_CHECK.  Records are produced by all queues of the
 * device: the backend serialises producers.
 */
struct vaccel_evt_sring {
    uint32_t          evt_prod;
    uint32_t          evt_event;
    uint32_t          evt_cons;
    uint32_t          lost;
    uint8_t           pad[48];
    struct vaccel_evt ring[1]; /* variable length */
};
typedef struct vaccel_evt_sring vaccel_evt_sring_t;

#define VACCEL_EVT_RING_INIT(s) do {                                        \
    (s)->evt_prod = (s)->evt_cons = (s)->lost = 0;                          \
    (s)->evt_event = 1;                                                     \
    (void)memset((s)->pad, 0, sizeof((s)->pad));                            \
} while (0)

/* Slot for index @idx of a ring with @size (power of two) slots. */
#define VACCEL_EVT_RING_SLOT(s, size, idx) (&(s)->ring[(idx) & ((size) - 1)])

/* Backend: is there room for one more record at producer index @prod? */
#define VACCEL_EVT_RING_HAS_ROOM(s, size, prod)                             \
    ((uint32_t)((prod) - *(volatile uint32_t *)&(s)->evt_cons) < (uint32_t)(size))

/* Backend: publish records up to @new_prod (previously @old_prod). */
#define VACCEL_EVT_RING_PUSH_AND_CHECK_NOTIFY(s, old_prod, new_prod, notify) do { \
    uint32_t __old = (old_prod), __new = (new_prod);                        \
    xen_wmb(); /* records before the index */                               \
    (s)->evt_prod = __new;                                                  \
    xen_mb();  /* index before reading evt_event */                         \
    (notify) = ((uint32_t)(__new - (s)->evt_event) <                        \
                (uint32_t)(__new - __old));                                 \
} while (0)

/* Frontend: after consuming up to @cons, publish it and re-arm. */
#define VACCEL_EVT_RING_FINAL_CHECK(s, cons, more) do {                     \
    xen_mb();  /* records read before freeing their slots */                \
    (s)->evt_cons = (cons);                                                 \
    (s)->evt_event = (cons) + 1;                                            \
    xen_mb();                                                               \
    (more) = (*(volatile uint32_t *)&(s)->evt_prod != (uint32_t)(cons));    \
} while (0)

/*
 ******************************************************************************
 *                        LAYOUT ASSERTIONS (the ABI)
 ******************************************************************************
 */
#if defined(__cplusplus)
#define VACCEL_STATIC_ASSERT(e, m) static_assert(e, m)
#else
#define VACCEL_STATIC_ASSERT(e, m) _Static_assert(e, m)
#endif
#define VACCEL_ASSERT_OFFSET(type, field, off) \
    VACCEL_STATIC_ASSERT(offsetof(type, field) == (off), \
                         #type "." #field " must be at offset " #off)
#define VACCEL_ASSERT_SIZE(type, size) \
    VACCEL_STATIC_ASSERT(sizeof(type) == (size), \
                         "sizeof(" #type ") must be " #size)

VACCEL_ASSERT_SIZE(grant_ref_t, 4);
VACCEL_ASSERT_SIZE(RING_IDX, 4);
VACCEL_ASSERT_SIZE(struct vaccel_seg, 16);
VACCEL_ASSERT_SIZE(struct vaccel_page_directory, VACCEL_PAGE_SIZE);
VACCEL_STATIC_ASSERT(VACCEL_DIR_GREFS_PER_PAGE == 1023, "1023 grefs per directory page");

VACCEL_ASSERT_SIZE(struct vaccel_req_map_region, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_unmap_region, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_session_create, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_blob_create, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_blob_migrate, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_blob_readback, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_fault_response, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_data, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_compress, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_aead, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_fill, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_compare, 48);
VACCEL_ASSERT_SIZE(struct vaccel_req_crc32c, 48);

VACCEL_ASSERT_SIZE(struct vaccel_request, 64);
VACCEL_ASSERT_OFFSET(struct vaccel_request, id, 0);
VACCEL_ASSERT_OFFSET(struct vaccel_request, op, 8);
VACCEL_ASSERT_OFFSET(struct vaccel_request, alg, 9);
VACCEL_ASSERT_OFFSET(struct vaccel_request, flags, 10);
VACCEL_ASSERT_OFFSET(struct vaccel_request, handle, 12);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.map_region.iova, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.map_region.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.map_region.gref_dir, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.unmap_region.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.session_create.key.iova, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.session_create.key.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.blob_create.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.blob_migrate.bitmap_iova, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.blob_readback.gref_dir, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.fault_response.fault_id, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.fault_response.status, 20);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.data.src.iova, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.data.src.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.data.dst.iova, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.data.dst.len, 40);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.data.param, 48);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.compress.level, 48);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.aead.nonce, 48);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.aead.aad_len, 60);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.fill.dst, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.fill.pattern, 48);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.compare.b, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_request, u.crc32c.seed, 48);

VACCEL_ASSERT_SIZE(struct vaccel_response, 64);
VACCEL_ASSERT_OFFSET(struct vaccel_response, id, 0);
VACCEL_ASSERT_OFFSET(struct vaccel_response, op, 8);
VACCEL_ASSERT_OFFSET(struct vaccel_response, fault_access, 9);
VACCEL_ASSERT_OFFSET(struct vaccel_response, status, 12);
VACCEL_ASSERT_OFFSET(struct vaccel_response, len, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_response, value, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_response, aux, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_response, fault_iova, 40);
VACCEL_ASSERT_OFFSET(struct vaccel_response, reserved1, 48);

VACCEL_ASSERT_SIZE(union vaccel_sring_entry, 64);
VACCEL_ASSERT_OFFSET(struct vaccel_sring, ring, 64);

VACCEL_ASSERT_SIZE(struct vaccel_evt_fault, 48);
VACCEL_ASSERT_SIZE(struct vaccel_evt_queue_stopped, 48);
VACCEL_ASSERT_SIZE(struct vaccel_evt_engine_reset, 48);
VACCEL_ASSERT_SIZE(struct vaccel_evt_quota, 48);
VACCEL_ASSERT_SIZE(struct vaccel_evt, 64);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, type, 0);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, flags, 2);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, seq, 8);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.iova, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.len, 24);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.req_id, 32);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.fault_id, 40);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.queue, 44);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.access, 46);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.fault.op, 47);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.queue_stopped.reason, 20);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.engine_reset.failed, 16);
VACCEL_ASSERT_OFFSET(struct vaccel_evt, u.quota.limit, 24);

VACCEL_ASSERT_OFFSET(struct vaccel_evt_sring, evt_prod, 0);
VACCEL_ASSERT_OFFSET(struct vaccel_evt_sring, evt_event, 4);
VACCEL_ASSERT_OFFSET(struct vaccel_evt_sring, evt_cons, 8);
VACCEL_ASSERT_OFFSET(struct vaccel_evt_sring, lost, 12);
VACCEL_ASSERT_OFFSET(struct vaccel_evt_sring, ring, 64);

VACCEL_STATIC_ASSERT(VACCEL_RING_SIZE(0) == 32, "order 0 ring: 32 slots");
VACCEL_STATIC_ASSERT(VACCEL_RING_SIZE(VACCEL_MAX_RING_PAGE_ORDER) == 512,
                     "largest ring: 512 slots");
VACCEL_STATIC_ASSERT(VACCEL_EVT_RING_SIZE(0) == VACCEL_RING_SIZE(0),
                     "event ring slots equal request ring slots per order");

#endif /* __XEN_PUBLIC_IO_ACCELIF_H__ */

/*
 * Local variables:
 * mode: C
 * c-file-style: "BSD"
 * c-basic-offset: 4
 * tab-width: 4
 * indent-tabs-mode: nil
 * End:
 */
