/*
 * Writes packets to a pcap file with libpcap, link type raw IP
 * (LINKTYPE_RAW: each record starts with an IPv4 or IPv6 header), the form
 * the data-plane tests hand to tshark. Test support only: the core never
 * links libpcap.
 */
#ifndef VPN_TEST_PCAP_WRITER_H
#define VPN_TEST_PCAP_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tu_pcap tu_pcap;

/* Creates (truncates) path. NULL on failure, with a message on stderr. */
tu_pcap *tu_pcap_open(const char *path);
/* Appends one packet stamped ts_ns. Returns 0, or -1 if p is NULL. */
int tu_pcap_write(tu_pcap *p, uint64_t ts_ns, const uint8_t *pkt, size_t len);
/* Flushes and closes. NULL is fine. */
void tu_pcap_close(tu_pcap *p);

#endif
