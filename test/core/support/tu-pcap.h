/*
 * Writing test captures: UDP datagrams wrapped in IPv4 (or IPv6) and UDP
 * headers with correct checksums, into a pcap file through libpcap
 * (LINKTYPE_RAW: packets start at the IP header). Header-only.
 */
#ifndef VPN_TEST_TU_PCAP_H
#define VPN_TEST_TU_PCAP_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <string.h>

#include "common/addr.h"
#include "test-util.h"

typedef struct tu_pcap {
    pcap_t *p;
    pcap_dumper_t *d;
    uint16_t ip_id;
} tu_pcap;

static inline void tu_pcap_open(tu_pcap *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->p = pcap_open_dead(DLT_RAW, 65535);
    assert_non_null(c->p);
    c->d = pcap_dump_open(c->p, path);
    if (c->d == NULL)
        fail_msg("cannot write %s: %s", path, pcap_geterr(c->p));
}

static inline void tu_pcap_close(tu_pcap *c)
{
    if (c->d)
        pcap_dump_close(c->d);
    if (c->p)
        pcap_close(c->p);
    memset(c, 0, sizeof *c);
}

static inline uint32_t tu_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static inline uint16_t tu_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One UDP datagram from src:sport to dst:dport at time ns. */
static inline void tu_pcap_udp(tu_pcap *c, uint64_t ns, const vpn_addr *src, uint16_t sport,
                               const vpn_addr *dst, uint16_t dport, const uint8_t *data, size_t len)
{
    static uint8_t pkt[65535 + 48];
    struct pcap_pkthdr h;
    size_t ip_len = src->family == VPN_AF_INET6 ? 40 : 20, alen = vpn_addr_len(src);
    size_t udp_len = 8 + len, total = ip_len + udp_len;
    uint8_t *ip = pkt, *udp = pkt + ip_len;
    uint32_t sum = 0;
    uint16_t ck;

    assert_true(total <= sizeof pkt && udp_len <= 0xffff);
    memset(pkt, 0, ip_len + 8);
    if (src->family == VPN_AF_INET6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)(udp_len >> 8);
        ip[5] = (uint8_t)udp_len;
        ip[6] = 17;
        ip[7] = 64;
        memcpy(ip + 8, src->b, 16);
        memcpy(ip + 24, dst->b, 16);
    } else {
        ip[0] = 0x45;
        ip[2] = (uint8_t)(total >> 8);
        ip[3] = (uint8_t)total;
        ip[4] = (uint8_t)(c->ip_id >> 8);
        ip[5] = (uint8_t)c->ip_id;
        c->ip_id++;
        ip[8] = 64;
        ip[9] = 17;
        memcpy(ip + 12, src->b, 4);
        memcpy(ip + 16, dst->b, 4);
        ck = tu_csum_fold(tu_csum_add(0, ip, 20));
        ip[10] = (uint8_t)(ck >> 8);
        ip[11] = (uint8_t)ck;
    }
    udp[0] = (uint8_t)(sport >> 8);
    udp[1] = (uint8_t)sport;
    udp[2] = (uint8_t)(dport >> 8);
    udp[3] = (uint8_t)dport;
    udp[4] = (uint8_t)(udp_len >> 8);
    udp[5] = (uint8_t)udp_len;
    memcpy(udp + 8, data, len);
    /* pseudo-header checksum (RFC 768, RFC 8200 8.1) */
    sum = tu_csum_add(sum, src->b, alen);
    sum = tu_csum_add(sum, dst->b, alen);
    sum += 17 + (uint32_t)udp_len;
    sum = tu_csum_add(sum, udp, udp_len);
    ck = tu_csum_fold(sum);
    if (ck == 0)
        ck = 0xffff;
    udp[6] = (uint8_t)(ck >> 8);
    udp[7] = (uint8_t)ck;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(ns / 1000000000ull);
    h.ts.tv_usec = (suseconds_t)(ns % 1000000000ull / 1000);
    h.caplen = h.len = (bpf_u_int32)total;
    pcap_dump((u_char *)c->d, &h, pkt);
}

#endif
