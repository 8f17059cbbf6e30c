#include "qos-apps.h"
#include "vpn-ns3-compat.h"

#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"
#include "ns3/double.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>

extern "C"
{
#include "common/wire.h"
#include "qos/rtp.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QosApps");
NS_OBJECT_ENSURE_REGISTERED(QosRtpSource);
NS_OBJECT_ENSURE_REGISTERED(QosFlowSink);

TypeId
QosRtpSource::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QosRtpSource")
            .SetParent<Application>()
            .SetGroupName("Vpn")
            .AddConstructor<QosRtpSource>()
            .AddAttribute("Remote", "Receiver address and port (InetSocketAddress).",
                          AddressValue(), MakeAddressAccessor(&QosRtpSource::m_remote),
                          MakeAddressChecker())
            .AddAttribute("Dscp", "DSCP to mark (46 EF for voice, 34 AF41 for video).",
                          UintegerValue(46), MakeUintegerAccessor(&QosRtpSource::m_dscp),
                          MakeUintegerChecker<uint8_t>(0, 63))
            .AddAttribute("Interval", "Voice: time between packets (packetization).",
                          TimeValue(MilliSeconds(20)), MakeTimeAccessor(&QosRtpSource::m_interval),
                          MakeTimeChecker())
            .AddAttribute("PayloadSize", "Voice: codec bytes per packet (G.711 160, G.729 20).",
                          UintegerValue(160), MakeUintegerAccessor(&QosRtpSource::m_payload),
                          MakeUintegerChecker<uint32_t>(VPN_QOS_PROBE_LEN, 1400))
            .AddAttribute("PayloadType", "RTP payload type (RFC 3551: 0 PCMU, 18 G729, 96 video).",
                          UintegerValue(VPN_RTP_PT_PCMU), MakeUintegerAccessor(&QosRtpSource::m_pt),
                          MakeUintegerChecker<uint8_t>(0, 127))
            .AddAttribute("FlowId", "Flow number carried in the probe.", UintegerValue(1),
                          MakeUintegerAccessor(&QosRtpSource::m_flow),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("VideoFrameRate", "Video: frames per second (0: voice).", DoubleValue(0),
                          MakeDoubleAccessor(&QosRtpSource::m_fps),
                          MakeDoubleChecker<double>(0, 120))
            .AddAttribute("VideoFrameBytes", "Video: mean size of a P-frame.", UintegerValue(3000),
                          MakeUintegerAccessor(&QosRtpSource::m_frameBytes),
                          MakeUintegerChecker<uint32_t>(VPN_QOS_PROBE_LEN, 1000000))
            .AddAttribute("VideoGop", "Video: frames per group (one I-frame, 4x larger).",
                          UintegerValue(30), MakeUintegerAccessor(&QosRtpSource::m_gop),
                          MakeUintegerChecker<uint32_t>(1, 1000))
            .AddAttribute("MaxPayload", "Video: largest RTP payload per packet.",
                          UintegerValue(1200),
                          MakeUintegerAccessor(&QosRtpSource::m_maxPayload),
                          MakeUintegerChecker<uint32_t>(VPN_QOS_PROBE_LEN, 1400));
    return tid;
}

QosRtpSource::QosRtpSource()
    : m_rand(CreateObject<UniformRandomVariable>())
{
    NS_LOG_FUNCTION(this);
}

QosRtpSource::~QosRtpSource()
{
    NS_LOG_FUNCTION(this);
}

void
QosRtpSource::DoDispose()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_event);
    m_socket = nullptr;
    Application::DoDispose();
}

uint32_t
QosRtpSource::GetSent() const
{
    return m_sent;
}

int64_t
QosRtpSource::AssignStreams(int64_t stream)
{
    NS_LOG_FUNCTION(this << stream);
    m_rand->SetStream(stream);
    return 1;
}

void
QosRtpSource::StartApplication()
{
    NS_LOG_FUNCTION(this);
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    m_socket->Bind();
    m_ssrc = 0x51000000u | m_flow; // fixed per flow: runs repeat exactly
    if (m_fps > 0)
    {
        m_event = Simulator::ScheduleNow(&QosRtpSource::SendFrame, this);
    }
    else
    {
        m_event = Simulator::ScheduleNow(&QosRtpSource::SendVoice, this);
    }
}

void
QosRtpSource::StopApplication()
{
    NS_LOG_FUNCTION(this);
    Simulator::Cancel(m_event);
    if (m_socket)
    {
        m_socket->Close();
    }
}

void
QosRtpSource::SendOne(uint32_t payload, bool marker)
{
    std::vector<uint8_t> buf(VPN_RTP_HDR_LEN + payload, 0xff); // mu-law silence
    vpn_wr w;
    vpn_wr_init(&w, buf.data(), buf.size());
    vpn_rtp_hdr h{marker, m_pt, m_seq, m_ts, m_ssrc};
    vpn_rtp_write(&w, &h);
    uint64_t now = static_cast<uint64_t>(Simulator::Now().GetNanoSeconds());
    vpn_qos_probe_write(&w, now, m_flow, m_sent);
    Ptr<Packet> p = Create<Packet>(buf.data(), static_cast<uint32_t>(buf.size()));
    // UDP takes its TOS from the address in 3.37 (Socket::SetIpTos is ignored there).
    InetSocketAddress to = vpncompat::WithTos(m_socket,
                                              InetSocketAddress::ConvertFrom(m_remote),
                                              static_cast<uint8_t>(m_dscp << 2));
    m_socket->SendTo(p, 0, to);
    m_seq++;
    m_sent++;
}

void
QosRtpSource::SendVoice()
{
    SendOne(m_payload, m_sent == 0);
    // RTP timestamp at the 8 kHz audio clock (RFC 3551 4.5).
    m_ts += static_cast<uint32_t>(m_interval.GetSeconds() * 8000.0 + 0.5);
    m_event = Simulator::Schedule(m_interval, &QosRtpSource::SendVoice, this);
}

void
QosRtpSource::SendFrame()
{
    double scale = (m_frames % m_gop == 0) ? 4.0 : m_rand->GetValue(0.5, 1.5);
    uint32_t bytes =
        std::max<uint32_t>(VPN_QOS_PROBE_LEN, static_cast<uint32_t>(m_frameBytes * scale));
    while (bytes > 0)
    {
        uint32_t chunk = std::min(bytes, m_maxPayload);
        if (chunk < VPN_QOS_PROBE_LEN)
        {
            chunk = VPN_QOS_PROBE_LEN;
        }
        bytes -= std::min(bytes, chunk);
        SendOne(chunk, bytes == 0);
    }
    m_frames++;
    // Video clock 90 kHz (RFC 3551 5).
    m_ts += static_cast<uint32_t>(90000.0 / m_fps + 0.5);
    m_event = Simulator::Schedule(Seconds(1.0 / m_fps), &QosRtpSource::SendFrame, this);
}

// ---- sink -----------------------------------------------------------------

TypeId
QosFlowSink::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QosFlowSink")
                            .SetParent<Application>()
                            .SetGroupName("Vpn")
                            .AddConstructor<QosFlowSink>()
                            .AddAttribute("Port", "UDP port to receive on.", UintegerValue(16384),
                                          MakeUintegerAccessor(&QosFlowSink::m_port),
                                          MakeUintegerChecker<uint16_t>());
    return tid;
}

QosFlowSink::QosFlowSink()
{
    NS_LOG_FUNCTION(this);
}

QosFlowSink::~QosFlowSink()
{
    NS_LOG_FUNCTION(this);
    for (auto& [id, f] : m_flows)
    {
        vpn_qos_flow_del(f);
    }
}

void
QosFlowSink::DoDispose()
{
    NS_LOG_FUNCTION(this);
    for (auto& [id, f] : m_flows)
    {
        vpn_qos_flow_del(f);
    }
    m_flows.clear();
    m_socket = nullptr;
    Application::DoDispose();
}

void
QosFlowSink::StartApplication()
{
    NS_LOG_FUNCTION(this);
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), m_port));
    m_socket->SetRecvCallback(MakeCallback(&QosFlowSink::HandleRead, this));
}

void
QosFlowSink::StopApplication()
{
    NS_LOG_FUNCTION(this);
    if (m_socket)
    {
        m_socket->Close();
        m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
    }
}

void
QosFlowSink::HandleRead(Ptr<Socket> socket)
{
    Ptr<Packet> p;
    Address from;
    while ((p = socket->RecvFrom(from)))
    {
        std::vector<uint8_t> buf(p->GetSize());
        p->CopyData(buf.data(), buf.size());
        vpn_rd r;
        vpn_rtp_hdr h;
        uint64_t tx = 0;
        uint32_t flow = 0;
        uint32_t seq = 0;
        vpn_rd_init(&r, buf.data(), buf.size());
        uint64_t now = static_cast<uint64_t>(Simulator::Now().GetNanoSeconds());
        if (vpn_rtp_read(&r, &h) != 0 || vpn_qos_probe_read(&r, &tx, &flow, &seq) != 0 || tx > now)
        {
            m_malformed++;
            continue;
        }
        vpn_qos_flow*& f = m_flows[flow];
        if (!f && vpn_qos_flow_new(&f) != 0)
        {
            m_flows.erase(flow);
            continue;
        }
        vpn_qos_flow_add(f, tx, now, static_cast<uint32_t>(buf.size()));
    }
}

bool
QosFlowSink::GetSummary(uint32_t flow, uint64_t sent, vpn_qos_summary& out) const
{
    auto it = m_flows.find(flow);
    if (it == m_flows.end())
    {
        vpn_qos_flow empty{};
        vpn_qos_flow_summary(&empty, sent, &out);
        return false;
    }
    return vpn_qos_flow_summary(it->second, sent, &out) == 0;
}

std::vector<double>
QosFlowSink::GetDelaysMs(uint32_t flow) const
{
    std::vector<double> d;
    auto it = m_flows.find(flow);
    if (it != m_flows.end())
    {
        for (size_t i = 0; i < it->second->n; i++)
        {
            d.push_back(it->second->delay_ns[i] / 1e6);
        }
    }
    std::sort(d.begin(), d.end());
    return d;
}

uint64_t
QosFlowSink::GetMalformed() const
{
    return m_malformed;
}

} // namespace ns3
