/*
 * libFuzzer target for the RTP header and probe readers (model/core/qos/rtp.h):
 * any bytes either parse, with the reader left inside the input, or fail
 * with an error code, without reading out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/vpn-err.h"
#include "qos/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vpn_rd r;
    vpn_rtp_hdr h;
    uint64_t tx;
    uint32_t flow, seq;
    uint8_t out[VPN_RTP_HDR_LEN];
    vpn_wr w;

    vpn_rd_init(&r, data, size);
    if (vpn_rtp_read(&r, &h) != 0)
        return 0;
    if (vpn_rd_left(&r) > size || h.pt > 127)
        abort();
    /* What was read writes back to the same first two fixed words when the
     * input had no CSRC, extension or padding. */
    vpn_wr_init(&w, out, sizeof out);
    if (vpn_rtp_write(&w, &h) != 0)
        abort();
    if ((data[0] & 0x3f) == 0 && (out[1] != data[1] || out[2] != data[2] || out[3] != data[3]))
        abort();
    (void)vpn_qos_probe_read(&r, &tx, &flow, &seq);
    return 0;
}
