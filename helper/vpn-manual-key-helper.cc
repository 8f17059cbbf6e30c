#include "vpn-manual-key-helper.h"

#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/vpn-ipsec-stack.h"
#include "ns3/vpn-node-engine.h"
#include "ns3/vpn-tunnel-net-device.h"

#include <vector>

extern "C" {
#include "common/addr.h"
#include "common/rng.h"
#include "common/vpn-err.h"
#include "conf/conf.h"
#include "crypto/cipher.h"
#include "crypto/integ.h"
#include "ipsec/sa.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("VpnManualKeyHelper");

VpnManualKeyHelper::VpnManualKeyHelper()
    : m_encrId(VPN_ENCR_AES_GCM_16),
      m_encrBits(128),
      m_integId(VPN_INTEG_NONE),
      m_replayWindow(64)
{
}

void
VpnManualKeyHelper::SetTransform(const std::string& transformSet)
{
    NS_LOG_FUNCTION(this << transformSet);
    // Reuse the configuration parser so the words mean what they mean in
    // a router configuration, with the same checks and messages.
    std::string text = "crypto ipsec transform-set T " + transformSet + "\n";
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    int rc = vpn_conf_parse(text.c_str(), text.size(), &conf, &err);
    NS_ABORT_MSG_IF(rc != 0, "transform set '" << transformSet << "': " << err.msg);
    const vpn_conf_transform_set* t = vpn_conf_find_transform_set(conf, "T");
    m_encrId = t->encr.id;
    m_encrBits = t->encr.bits;
    m_integId = t->integ;
    vpn_conf_del(conf);
}

void
VpnManualKeyHelper::SetReplayWindow(uint32_t packets)
{
    NS_LOG_FUNCTION(this << packets);
    m_replayWindow = packets;
}

void
VpnManualKeyHelper::Install(Ptr<VpnTunnelNetDevice> a, Ptr<VpnTunnelNetDevice> b) const
{
    NS_LOG_FUNCTION(this << a << b);
    NS_ABORT_MSG_IF(a->GetTunnelSource() != b->GetTunnelDestination() ||
                        b->GetTunnelSource() != a->GetTunnelDestination(),
                    "manual keys: tunnels " << a->GetInterfaceName() << " and "
                                            << b->GetInterfaceName() << " do not face each other");
    NS_ABORT_MSG_IF(a->GetMode() != b->GetMode(), "manual keys: tunnel modes differ");

    const vpn_cipher_info* ci = nullptr;
    const vpn_integ_info* ii = nullptr;
    NS_ABORT_MSG_IF(vpn_cipher_lookup(m_encrId, m_encrBits, &ci) != 0, "unsupported cipher");
    if (m_integId != VPN_INTEG_NONE)
    {
        NS_ABORT_MSG_IF(vpn_integ_lookup(m_integId, &ii) != 0, "unsupported integrity");
    }

    Ptr<VpnNodeEngine> engine = VpnNodeEngine::GetOrCreate(a->GetNode());
    vpn_drbg drbg;
    NS_ABORT_MSG_IF(engine->ForkDrbg(&drbg, "manual-keys " + a->GetInterfaceName()) != 0,
                    "DRBG fork failed");

    Ptr<VpnTunnelNetDevice> ends[2] = {a, b};
    for (int dir = 0; dir < 2; dir++)
    {
        Ptr<VpnTunnelNetDevice> tx = ends[dir];
        Ptr<VpnTunnelNetDevice> rx = ends[1 - dir];
        std::vector<uint8_t> ekey(ci->key_len);
        std::vector<uint8_t> ikey(ii ? ii->key_len : 0);
        uint8_t spiBytes[4];
        uint32_t spi = 0;
        // RFC 4303 2.1: SPIs 1-255 are reserved.
        while (spi < 256)
        {
            vpn_drbg_generate(&drbg, spiBytes, sizeof spiBytes);
            spi = static_cast<uint32_t>(spiBytes[0]) << 24 | spiBytes[1] << 16 | spiBytes[2] << 8 |
                  spiBytes[3];
        }
        vpn_drbg_generate(&drbg, ekey.data(), ekey.size());
        if (!ikey.empty())
        {
            vpn_drbg_generate(&drbg, ikey.data(), ikey.size());
        }

        vpn_sa_config cfg{};
        cfg.spi = spi;
        cfg.mode = tx->GetMode() == VpnTunnelNetDevice::VTI ? VPN_ESP_TUNNEL : VPN_ESP_TRANSPORT;
        cfg.encr_id = m_encrId;
        cfg.encr_key_bits = m_encrBits;
        cfg.encr_key = ekey.data();
        cfg.encr_key_len = ekey.size();
        cfg.integ_id = m_integId;
        cfg.integ_key = ikey.empty() ? nullptr : ikey.data();
        cfg.integ_key_len = ikey.size();
        cfg.replay_window = m_replayWindow;
        cfg.dscp = VPN_SA_DSCP_COPY;
        vpn_addr_v4(&cfg.local, tx->GetTunnelSource().Get());
        vpn_addr_v4(&cfg.remote, tx->GetTunnelDestination().Get());

        cfg.dir = VPN_SA_OUT;
        // The router makes an outbound SA the tunnel's own.
        int rc = VpnIpsecStack::GetOrCreate(tx->GetNode())->AddSa(cfg, PeekPointer(tx), nullptr);
        NS_ABORT_MSG_IF(rc != 0, "outbound SA: " << vpn_strerror(rc));
        // The receiver's view: local and remote swap.
        std::swap(cfg.local, cfg.remote);
        cfg.dir = VPN_SA_IN;
        rc = VpnIpsecStack::GetOrCreate(rx->GetNode())->AddSa(cfg, PeekPointer(rx), nullptr);
        NS_ABORT_MSG_IF(rc != 0, "inbound SA: " << vpn_strerror(rc));
        std::fill(ekey.begin(), ekey.end(), 0);
        std::fill(ikey.begin(), ikey.end(), 0);
    }
    vpn_drbg_free(&drbg);
}

int64_t
VpnManualKeyHelper::AssignStreams(NodeContainer c, int64_t stream)
{
    NS_LOG_FUNCTION(this << stream);
    int64_t used = 0;
    for (auto it = c.Begin(); it != c.End(); ++it)
    {
        used += VpnNodeEngine::GetOrCreate(*it)->AssignStreams(stream + used);
    }
    return used;
}

} // namespace ns3
