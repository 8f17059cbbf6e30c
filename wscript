# -*- Mode: python; py-indent-offset: 4; indent-tabs-mode: nil; coding: utf-8; -*-
#
# waf build of the "vpn" module for waf-era ns-3 trees (<= 3.35): drop this
# folder into src/ or contrib/ as "vpn". CMakeLists.txt is the build for
# ns-3 >= 3.36 and standalone use; the lists below must match its lists
# entry for entry (test/scripts/build-lists.py checks this).

VPN_CORE_SOURCES = [
    'model/core/common/vpn-err.c',
    'model/core/common/vpn-log.c',
    'model/core/common/wire.c',
    'model/core/common/rng.c',
    'model/core/common/addr.c',
    'model/core/common/alloc.c',
    'model/core/common/dheap.c',
    'model/core/common/htab.c',
    'model/core/conf/conf.c',
    'model/core/conf/conf-parse.c',
    'model/core/crypto/cipher.c',
    'model/core/crypto/hmac.c',
    'model/core/crypto/integ.c',
    'model/core/show/show-conf.c',
    'model/core/crypto/prf.c',
    'model/core/crypto/kdf.c',
    'model/core/crypto/dh.c',
    'model/core/crypto/sig.c',
    'model/core/crypto/x509.c',
    'model/core/ipsec/ip.c',
    'model/core/ipsec/replay.c',
    'model/core/ipsec/sa.c',
    'model/core/ipsec/spd.c',
    'model/core/ipsec/esp.c',
    'model/core/ipsec/natt.c',
    'model/core/ipsec/wskeys.c',
    'model/core/gre/gre.c',
    'model/core/isakmp/isakmp-attr.c',
    'model/core/isakmp/isakmp-msg.c',
    'model/core/isakmp/isakmp-build.c',
    'model/core/isakmp/isakmp-policy.c',
    'model/core/isakmp/isakmp-names.c',
    'model/core/isakmp/gdoi-codec.c',
    'model/core/ikev2/ikev2-crypto.c',
    'model/core/ikev2/ikev2-ts.c',
    'model/core/ikev2/ikev2-engine.c',
    'model/core/ikev2/ikev2-cidx.c',
    'model/core/ikev2/ikev2-ridx.c',
    'model/core/ikev2/ikev2-policy.c',
    'model/core/ikev2/ikev2-init.c',
    'model/core/ikev2/ikev2-auth.c',
    'model/core/ikev2/ikev2-eap.c',
    'model/core/ikev2/ikev2-cp.c',
    'model/core/ikev2/ikev2-child.c',
    'model/core/ikev2/ikev2-info.c',
    'model/core/show/show-ikev2.c',
    'model/core/ikev2/ikev2-names.c',
    'model/core/ikev2/ikev2-payload.c',
    'model/core/ikev2/ikev2-msg.c',
    'model/core/ikev2/ikev2-proposal.c',
    'model/core/ikev1/ikev1.c',
    'model/core/gdoi/gdoi-common.c',
    'model/core/gdoi/gdoi-ks.c',
    'model/core/gdoi/gdoi-gm.c',
    'model/core/show/show-gdoi.c',
    'model/core/ikev2/ikev2-cert.c',
    'model/core/ikev1/ikev1-conf.c',
    'model/core/show/show-isakmp.c',
    'model/core/gdoi/gdoi-coop.c',
    'model/core/getvpn/getvpn.c',
    'model/core/show/show-getvpn.c',
    'model/core/gdoi/gdoi-conf.c',
    'model/core/ikev2/ikev2-esp.c',
    'model/core/mpls/mpls-label.c',
    'model/core/mpls/mpls-router.c',
    'model/core/mpls/mpls-plan.c',
    'model/core/show/show-mpls.c',
    'model/core/nhrp/nhrp-codec.c',
    'model/core/nhrp/nhrp.c',
    'model/core/show/show-nhrp.c',
    'model/core/nhrp/nhrp-conf.c',
    'model/core/router/router.c',
    'model/core/radius/radius.c',
    'model/core/router/router-ikev1.c',
    'model/core/qos/qos-metrics.c',
    'model/core/conf/conf-qos.c',
    'model/core/qos/qos-sched.c',
    'model/core/qos/qos-mqc.c',
    'model/core/qos/rtp.c',
]

VPN_CORE_HEADERS = [
    'model/core/common/vpn-err.h',
    'model/core/common/vpn-log.h',
    'model/core/common/wire.h',
    'model/core/common/rng.h',
    'model/core/common/dheap.h',
    'model/core/common/htab.h',
    'model/core/common/alloc.h',
    'model/core/common/addr.h',
    'model/core/crypto/crypto-ids.h',
    'model/core/crypto/ossl-err.h',
    'model/core/crypto/cipher.h',
    'model/core/crypto/integ.h',
    'model/core/conf/conf.h',
    'model/core/conf/conf-internal.h',
    'model/core/crypto/hmac.h',
    'model/core/show/show.h',
    'model/core/crypto/prf.h',
    'model/core/crypto/kdf.h',
    'model/core/crypto/dh.h',
    'model/core/crypto/sig.h',
    'model/core/crypto/x509.h',
    'model/core/ipsec/pkt.h',
    'model/core/ipsec/ip.h',
    'model/core/ipsec/replay.h',
    'model/core/ipsec/sa.h',
    'model/core/ipsec/sa-priv.h',
    'model/core/ipsec/spd.h',
    'model/core/ipsec/esp.h',
    'model/core/ipsec/natt.h',
    'model/core/ipsec/wskeys.h',
    'model/core/gre/gre.h',
    'model/core/isakmp/isakmp-const.h',
    'model/core/isakmp/isakmp-attr.h',
    'model/core/isakmp/isakmp-msg.h',
    'model/core/isakmp/isakmp-build.h',
    'model/core/isakmp/isakmp-policy.h',
    'model/core/isakmp/isakmp-names.h',
    'model/core/isakmp/gdoi-codec.h',
    'model/core/ikev2/ikev2-engine.h',
    'model/core/ikev2/ikev2-crypto.h',
    'model/core/ikev2/ikev2-ts.h',
    'model/core/ikev2/ikev2-eap.h',
    'model/core/ikev2/ikev2-cp.h',
    'model/core/ikev2/ikev2-eng.h',
    'model/core/ikev2/ikev2-cidx.h',
    'model/core/ikev2/ikev2-ridx.h',
    'model/core/show/show-ikev2.h',
    'model/core/ikev2/ikev2-const.h',
    'model/core/ikev2/ikev2-codec.h',
    'model/core/ikev2/ikev2-internal.h',
    'model/core/ikev2/ikev2-proposal.h',
    'model/core/ikev1/ikev1.h',
    'model/core/gdoi/gdoi.h',
    'model/core/gdoi/gdoi-priv.h',
    'model/core/gdoi/gdoi-conf.h',
    'model/core/show/show-gdoi.h',
    'model/core/ikev1/ikev1-conf.h',
    'model/core/show/show-isakmp.h',
    'model/core/ikev2/ikev2-esp.h',
    'model/core/getvpn/getvpn.h',
    'model/core/show/show-getvpn.h',
    'model/core/mpls/mpls.h',
    'model/core/show/show-mpls.h',
    'model/core/nhrp/nhrp-codec.h',
    'model/core/nhrp/nhrp.h',
    'model/core/show/show-nhrp.h',
    'model/core/nhrp/nhrp-conf.h',
    'model/core/router/router.h',
    'model/core/radius/radius.h',
    'model/core/router/router-ikev1.h',
    'model/core/qos/qos-metrics.h',
    'model/core/conf/conf-qos.h',
    'model/core/qos/qos-sched.h',
    'model/core/qos/qos-mqc.h',
    'model/core/qos/rtp.h',
]

VPN_NS3_SOURCES = [
    'model/ns3/vpn-node-engine.cc',
    'model/ns3/vpn-ipsec-stack.cc',
    'model/ns3/vpn-tunnel-net-device.cc',
    'helper/vpn-manual-key-helper.cc',
    'helper/vpn-trace-helper.cc',
    'model/ns3/vpn-packet-util.cc',
    'model/ns3/ikev2-daemon.cc',
    'helper/flexvpn-helper.cc',
    'helper/vpn-report.cc',
    'model/ns3/gdoi-daemon.cc',
    'model/ns3/vpn-crypto-map-net-device.cc',
    'helper/getvpn-helper.cc',
    'model/ns3/mpls-router.cc',
    'helper/mpls-provider-helper.cc',
    'model/ns3/mqc-queue-disc.cc',
    'model/ns3/qos-apps.cc',
    'helper/mqc-helper.cc',
    'helper/vpn-emu-helper.cc',
    'helper/vpn-mpi-helper.cc',
]

VPN_NS3_HEADERS = [
    'model/ns3/vpn-node-engine.h',
    'model/ns3/vpn-ipsec-stack.h',
    'model/ns3/vpn-tunnel-net-device.h',
    'helper/vpn-manual-key-helper.h',
    'helper/vpn-trace-helper.h',
    'model/ns3/vpn-packet-util.h',
    'model/ns3/ikev2-daemon.h',
    'helper/flexvpn-helper.h',
    'helper/vpn-report.h',
    'model/ns3/gdoi-daemon.h',
    'model/ns3/vpn-crypto-map-net-device.h',
    'helper/getvpn-helper.h',
    'model/ns3/mpls-router.h',
    'helper/mpls-provider-helper.h',
    'model/ns3/mqc-queue-disc.h',
    'model/ns3/qos-apps.h',
    'helper/mqc-helper.h',
    'helper/vpn-emu-helper.h',
    'model/ns3/vpn-ns3-compat.h',
    'helper/vpn-mpi-helper.h',
]

# Scenario code the examples share (not part of the module library; the
# TestSuites that run the scenarios are built with it too).
VPN_EXAMPLE_SUPPORT = [
    'examples/flexvpn-site-to-site.cc',
    'examples/flexvpn-site-to-site.h',
    'examples/nhrp-hub-scenario.cc',
    'examples/nhrp-hub-scenario.h',
    'examples/qos-llq-scenario.cc',
    'examples/qos-llq-scenario.h',
    'examples/get-vs-flex-scenario.cc',
    'examples/get-vs-flex-scenario.h',
    'examples/flexvpn-remote-access-scenario.cc',
    'examples/flexvpn-remote-access-scenario.h',
    'examples/getvpn-intranet-scenario.cc',
    'examples/getvpn-intranet-scenario.h',
]

VPN_EXAMPLES = [
    'ipsec-manual-l2l',
    'flexvpn-l2l-static',
    'flexvpn-hub-spoke',
    'flexvpn-remote-access',
    'flexvpn-l2l-dynamic',
    'mpls-l3vpn',
    'getvpn-mpls-any2any',
    'getvpn-multicast',
    'getvpn-coop',
    'qos-llq',
    'dmvpn-phase3',
    'get-vs-flex',
    'flexvpn-hub-vt',
    'vpn-scenario',
    'flexvpn-emulation',
    'getvpn-emulation',
]

VPN_CORE_TESTS = [
    'common-wire:test/core/common-wire-test.c',
    'common-rng:test/core/common-rng-test.c',
    'common-err:test/core/common-err-test.c',
    'common-addr:test/core/common-addr-test.c',
    'common-htab:test/core/common-htab-test.c',
    'conf-parse:test/core/conf-parse-test.c',
    'crypto-cipher:test/core/crypto-cipher-test.c',
    'crypto-integ:test/core/crypto-integ-test.c',
    'show-conf:test/core/show-conf-test.c',
    'crypto-prf:test/core/crypto-prf-test.c',
    'crypto-kdf:test/core/crypto-kdf-test.c',
    'crypto-dh:test/core/crypto-dh-test.c',
    'crypto-sig:test/core/crypto-sig-test.c',
    'crypto-x509:test/core/crypto-x509-test.c',
    'ipsec-ip:test/core/ipsec-ip-test.c',
    'ipsec-replay:test/core/ipsec-replay-test.c',
    'ipsec-sad:test/core/ipsec-sad-test.c',
    'ipsec-spd:test/core/ipsec-spd-test.c',
    'gre-tunnel:test/core/gre-tunnel-test.c',
    'esp-vectors:test/core/esp-vectors-test.c',
    'esp-roundtrip:test/core/esp-roundtrip-test.c',
    'esp-wireshark:test/core/esp-wireshark-test.c',
    'ikev1-codec:test/core/isakmp-codec-test.c',
    'gdoi-codec:test/core/gdoi-codec-test.c',
    'ikev2-crypto:test/core/ikev2-crypto-test.c',
    'ikev2-engine:test/core/ikev2-engine-test.c',
    'ikev2-codec:test/core/ikev2-codec-test.c',
    'ikev2-adversarial:test/core/ikev2-adversarial-test.c',
    'ikev2-proposal:test/core/ikev2-proposal-test.c',
    'ikev2-corpus:test/core/ikev2-corpus-test.c',
    'ikev2-life:test/core/ikev2-life-test.c',
    'ikev2-hostile:test/core/ikev2-hostile-test.c',
    'ikev2-pcap:test/core/ikev2-pcap-test.c',
    'ikev1-mainmode:test/core/ikev1-mainmode-test.c',
    'router-ikev1:test/core/router-ikev1-test.c',
    'gdoi-engine:test/core/gdoi-engine-test.c',
    'ikev2-cert:test/core/ikev2-cert-test.c',
    'show-ikev2:test/core/show-ikev2-test.c',
    'ikev2-auth:test/core/ikev2-auth-test.c',
    'ikev2-eap-mschapv2:test/core/ikev2-eap-mschapv2-test.c',
    'ikev2-eap-methods:test/core/ikev2-eap-methods-test.c',
    'ikev2-eap-engine:test/core/ikev2-eap-engine-test.c',
    'ikev2-cp-pool:test/core/ikev2-cp-pool-test.c',
    'alloc-gates:test/core/alloc-gates-test.c',
    'conf-ra:test/core/conf-ra-test.c',
    'gdoi-coop:test/core/gdoi-coop-test.c',
    'conf-gdoi:test/core/conf-gdoi-test.c',
    'gdoi-conf:test/core/gdoi-conf-test.c',
    'gdoi-gdoid-interop:test/core/gdoi-gdoid-interop-test.c',
    'esp-mtu:test/core/esp-mtu-test.c',
    'ikev2-esp:test/core/ikev2-esp-test.c',
    'getvpn-node:test/core/getvpn-node-test.c',
    'mpls-label:test/core/mpls-label-test.c',
    'mpls-lfib:test/core/mpls-lfib-test.c',
    'mpls-vpn:test/core/mpls-vpn-test.c',
    'nhrp-codec:test/core/nhrp-codec-test.c',
    'nhrp-engine:test/core/nhrp-engine-test.c',
    'nhrp-conf:test/core/nhrp-conf-test.c',
    'router-api:test/core/router-api-test.c',
    'router-malformed:test/core/router-malformed-test.c',
    'router-mgre:test/core/router-mgre-test.c',
    'router-gdoi:test/core/router-gdoi-test.c',
    'router-access:test/core/router-access-test.c',
    'router-vtemplate:test/core/router-vtemplate-test.c',
    'conf-vtemplate:test/core/conf-vtemplate-test.c',
    'conformance-core:test/core/router-conformance-test.c',
    'qos-emodel:test/core/qos-emodel-test.c',
    'qos-metrics:test/core/qos-metrics-test.c',
    'conf-qos:test/core/conf-qos-test.c',
    'qos-sched:test/core/qos-sched-test.c',
    'qos-mqc:test/core/qos-mqc-test.c',
    'qos-rtp:test/core/qos-rtp-test.c',
    'crypto-rfc6979:test/core/crypto-rfc6979-test.c',
    'ikev2-inject-fail:test/core/ikev2-inject-fail-test.c',
    'gdoi-inject-fail:test/core/gdoi-inject-fail-test.c',
    'crypto-inject-fail:test/core/crypto-inject-fail-test.c',
    'ikev2-collision:test/core/ikev2-collision-test.c',
    'ikev2-window:test/core/ikev2-window-test.c',
    'ikev2-plainview:test/core/ikev2-plainview-test.c',
    'ikev2-deadline:test/core/ikev2-deadline-test.c',
    'ikev2-cidx:test/core/ikev2-cidx-test.c',
    'ikev2-ridx:test/core/ikev2-ridx-test.c',
    'radius-client:test/core/radius-client-test.c',
]

VPN_FUZZERS = [
    'crypto-fuzz-parse:test/fuzz/crypto-fuzz-parse.c',
    'conf-fuzz-parse:test/fuzz/conf-fuzz-parse.c',
    'esp-fuzz:test/fuzz/esp-fuzz.c',
    'gdoi-fuzz-parse:test/fuzz/gdoi-fuzz-parse.c',
    'ikev2-fuzz-parse:test/fuzz/ikev2-fuzz-parse.c',
    'ikev2-fuzz-responder:test/fuzz/ikev2-fuzz-responder.c',
    'gdoi-fuzz-gm:test/fuzz/gdoi-fuzz-gm.c',
    'gdoi-fuzz-coop:test/fuzz/gdoi-fuzz-coop.c',
    'getvpn-fuzz-input:test/fuzz/getvpn-fuzz-input.c',
    'mpls-fuzz-parse:test/fuzz/mpls-fuzz-parse.c',
    'nhrp-fuzz-parse:test/fuzz/nhrp-fuzz-parse.c',
    'ikev2-fuzz-eap:test/fuzz/ikev2-fuzz-eap.c',
    'router-fuzz-input:test/fuzz/router-fuzz-input.c',
    'qos-fuzz-rtp:test/fuzz/qos-fuzz-rtp.c',
    'radius-fuzz-reply:test/fuzz/radius-fuzz-reply.c',
    'radius-fuzz-attrs:test/fuzz/radius-fuzz-attrs.c',
]

VPN_BENCHES = [
    'esp:test/bench/esp-bench.c',
    'ikev2:test/bench/ikev2-bench.c',
]

# Benchmarks that are ns-3 programs (built with the examples).
VPN_NS3_BENCHES = [
    'getvpn:test/bench/getvpn-bench.cc',
    'hub-scale:test/bench/hub-scale-bench.cc',
]

# Headers the benchmarks share (included from beside their sources).
VPN_BENCH_HEADERS = [
    'test/bench/bench-quick.h',
]

VPN_SIM_TEST_SOURCES = [
    'test/sim/vpn-node-engine-test-suite.cc',
    'test/sim/ipsec-tunnel-test-suite.cc',
    'test/sim/flexvpn-test-suite.cc',
    'test/sim/getvpn-test-suite.cc',
    'test/sim/mpls-provider-test-suite.cc',
    'test/sim/conformance-test-suite.cc',
    'test/sim/qos-test-suite.cc',
    'test/sim/get-vs-flex-test-suite.cc',
    'test/sim/dmvpn-test-suite.cc',
    'test/sim/vpn-streams-test-suite.cc',
    'test/sim/flexvpn-ra-test-suite.cc',
    'test/sim/flexvpn-vt-test-suite.cc',
    'test/sim/vpn-emu-helper-test-suite.cc',
]

# Headers the TestSuites share (included from test/sim, not compiled alone).
VPN_SIM_TEST_HEADERS = [
    'test/sim/vpn-sim-topology.h',
]

VPN_SIM_SUITES = [
    'vpn-node-engine',
    'ipsec-tunnel',
    'flexvpn',
    'getvpn',
    'mpls-provider',
    'conformance-ns3',
    'qos-llq',
    'dmvpn',
    'vpn-streams',
    'flexvpn-ra',
    'get-vs-flex',
    'flexvpn-vt',
    'vpn-emu-helper',
]

# The real-network testbed (model/host/, GLib): built by CMake's standalone
# build only; listed here so that test/scripts/build-lists.py keeps the two
# builds' lists equal.
VPN_HOST_SOURCES = [
    'model/host/host-plan.c',
    'model/host/host-ctl.c',
]
VPN_HOST_HEADERS = [
    'model/host/host-plan.h',
    'model/host/host-ctl.h',
    'model/host/vpnd.h',
]
VPN_HOST_VPND = [
    'model/host/vpnd-main.c',
    'model/host/vpnd-net.c',
    'model/host/vpnd-dp.c',
    'model/host/vpnd-ctl.c',
    'model/host/vpnd-keys.c',
    'model/host/vpnd-ikev1.c',
    'model/host/vpnd-gdoi.c',
    'model/host/vpnd-ra.c',
]
VPN_HOST_VPNCTL = [
    'model/host/vpnctl.c',
]
VPN_HOST_TESTS = [
    'host-plan:test/core/host-plan-test.c',
    'host-ctl:test/core/host-ctl-test.c',
]

VPN_TEST_SUPPORT = ['test/core/support/test-util.c', 'test/core/support/pcap-writer.c',
                    'test/core/support/pkt-build.c',
    'test/core/support/gdoi-net.c',
    'test/core/support/conf-expect.c',
    'test/core/support/engine-params.c',
]

C_FLAGS = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wpointer-arith', '-Wvla',
           '-Wstrict-prototypes', '-fPIC']


def options(opt):
    opt.add_option('--disable-vpn-core-tests', action='store_true', default=False,
                   help='Do not build the cmocka tests of the vpn module\'s C core',
                   dest='disable_vpn_core_tests')


def configure(conf):
    # External libraries, checked the way src/brite/wscript checks its own.
    have_ssl = conf.check_cfg(package='libcrypto', atleast_version='3.0',
                              args=['--cflags', '--libs'], uselib_store='VPN_SSL',
                              mandatory=False)
    conf.env.append_value('LIB_VPN_SSL', ['m'])  # the QoS metrics (model/core/qos) use libm
    have_cmocka = conf.check_cfg(package='cmocka', args=['--cflags', '--libs'],
                                 uselib_store='VPN_CMOCKA', mandatory=False)
    have_pcap = conf.check_cfg(package='libpcap', args=['--cflags', '--libs'],
                               uselib_store='VPN_PCAP', mandatory=False)
    conf.env['HAVE_VPN_GLIB'] = bool(conf.check_cfg(package='glib-2.0', args=['--cflags', '--libs'],
                                                    uselib_store='VPN_GLIB', mandatory=False))
    conf.env['ENABLE_VPN'] = bool(have_ssl)
    conf.env['ENABLE_VPN_CORE_TESTS'] = bool(have_cmocka and have_pcap) and \
        not conf.options.disable_vpn_core_tests
    conf.report_optional_feature('vpn', 'VPN module (OpenSSL 3)', conf.env['ENABLE_VPN'],
                                 'libcrypto >= 3.0 not found (apt-get install libssl-dev)')
    conf.report_optional_feature('vpn-core-tests', 'VPN core tests (cmocka, libpcap)',
                                 conf.env['ENABLE_VPN_CORE_TESTS'],
                                 'cmocka or libpcap not found')
    if not conf.env['ENABLE_VPN']:
        conf.env['MODULES_NOT_BUILT'].append('vpn')


def build(bld):
    if 'vpn' in bld.env['MODULES_NOT_BUILT']:
        return

    # The portable C core: one static library, no ns-3 inside.
    bld(features='c cstlib', source=VPN_CORE_SOURCES, target='vpncore',
        includes=['model/core'], export_includes=['model/core'],
        cflags=C_FLAGS, use=['VPN_SSL'])

    module = bld.create_ns3_module('vpn', ['core', 'network', 'internet', 'point-to-point',
                                           'applications', 'csma', 'internet-apps',
                                           'traffic-control', 'flow-monitor', 'stats',
                                           'fd-net-device'])
    module.source = VPN_NS3_SOURCES
    module.includes = ['model/core', 'model/ns3']
    module.use += ['vpncore', 'VPN_SSL']

    headers = bld(features='ns3header')
    headers.module = 'vpn'
    headers.source = VPN_NS3_HEADERS

    module_test = bld.create_ns3_module_test_library('vpn')
    # the TestSuites that run the examples' scenarios build with them
    module_test.source = VPN_SIM_TEST_SOURCES + [s for s in VPN_EXAMPLE_SUPPORT if s.endswith('.cc')]
    module_test.includes = ['examples']

    if bld.env['ENABLE_VPN_CORE_TESTS']:
        for entry in VPN_CORE_TESTS:
            name, src = entry.split(':', 1)
            bld(features='c cprogram', source=[src] + VPN_TEST_SUPPORT, target=name,
                includes=['model/core', 'test/core/support'], cflags=C_FLAGS,
                defines=['VPN_SOURCE_DIR="%s"' % bld.path.abspath(),
                         'VPN_BUILD_DIR="%s"' % bld.path.get_bld().abspath()],
                use=['vpncore', 'VPN_SSL', 'VPN_CMOCKA', 'VPN_PCAP'], install_path=None)
        for entry in VPN_BENCHES:
            name, src = entry.split(':', 1)
            bld(features='c cprogram', source=[src], target='vpn-bench-' + name,
                includes=['model/core'], cflags=C_FLAGS + ['-O2'],
                use=['vpncore', 'VPN_SSL'], install_path=None)

    if bld.env['ENABLE_EXAMPLES']:
        for example in VPN_EXAMPLES:
            if example == 'vpn-scenario' and not bld.env['HAVE_VPN_GLIB']:
                continue  # the scenario runner needs GLib (GKeyFile)
            obj = bld.create_ns3_program(example, ['vpn', 'point-to-point', 'applications',
                                                   'internet-apps', 'csma'])
            obj.source = ['examples/%s.cc' % example] + \
                [s for s in VPN_EXAMPLE_SUPPORT if s.endswith('.cc')]
            obj.defines = ['VPN_SOURCE_DIR="%s"' % bld.path.abspath()]
            if example == 'vpn-scenario':
                obj.uselib = 'VPN_GLIB'  # scenario.ini through GKeyFile
        for entry in VPN_NS3_BENCHES:
            name, src = entry.split(':', 1)
            # (hub-scale's floor run uses ns-3's VirtualNetDevice)
            extra = ['virtual-net-device'] if name == 'hub-scale' else []
            obj = bld.create_ns3_program('vpn-bench-' + name, ['vpn', 'point-to-point', 'applications',
                                                               'internet', 'internet-apps', 'csma'] + extra)
            # the scenarios they run live with the examples
            obj.source = [src] + [s for s in VPN_EXAMPLE_SUPPORT if s.endswith('.cc')]
            obj.includes = ['model/core', 'examples']

    # Fuzz targets need clang's libFuzzer; the CMake build compiles them.
