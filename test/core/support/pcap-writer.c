/* libpcap headers use the BSD u_int/u_char types, hidden in strict C11. */
#define _DEFAULT_SOURCE 1

#include "pcap-writer.h"

#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

struct tu_pcap {
    pcap_t *dead;
    pcap_dumper_t *dump;
};

tu_pcap *tu_pcap_open(const char *path)
{
    tu_pcap *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    /* DLT_RAW is written to the file as LINKTYPE_RAW (101). */
    p->dead = pcap_open_dead(DLT_RAW, 65535);
    if (!p->dead) {
        free(p);
        return NULL;
    }
    p->dump = pcap_dump_open(p->dead, path);
    if (!p->dump) {
        fprintf(stderr, "pcap: %s: %s\n", path, pcap_geterr(p->dead));
        pcap_close(p->dead);
        free(p);
        return NULL;
    }
    return p;
}

int tu_pcap_write(tu_pcap *p, uint64_t ts_ns, const uint8_t *pkt, size_t len)
{
    struct pcap_pkthdr h;

    if (!p)
        return -1;
    h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u / 1000u);
    h.caplen = (bpf_u_int32)len;
    h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)p->dump, &h, pkt);
    return 0;
}

void tu_pcap_close(tu_pcap *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dump);
    pcap_close(p->dead);
    free(p);
}
