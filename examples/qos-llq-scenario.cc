#include "qos-llq-scenario.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/mqc-helper.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/qos-apps.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QosLlqScenario");

QosLlqResult
RunQosLlq(const QosLlqParams& p)
{
    NS_LOG_FUNCTION(p.ceWanIf);
    QosLlqResult res;
    // branch host -- CE == access == PE -- HQ host
    NodeContainer n;
    n.Create(4);
    Ptr<Node> src = n.Get(0);
    Ptr<Node> ce = n.Get(1);
    Ptr<Node> pe = n.Get(2);
    Ptr<Node> dst = n.Get(3);
    PointToPointHelper lan;
    lan.SetDeviceAttribute("DataRate", StringValue("100Mbps"));
    lan.SetChannelAttribute("Delay", StringValue("100us"));
    PointToPointHelper access;
    access.SetDeviceAttribute("DataRate", DataRateValue(DataRate(p.accessBps)));
    access.SetChannelAttribute("Delay", TimeValue(p.accessDelay));
    NetDeviceContainer d0 = lan.Install(src, ce);
    NetDeviceContainer d1 = access.Install(ce, pe);
    NetDeviceContainer d2 = lan.Install(pe, dst);
    InternetStackHelper stack;
    stack.Install(n);
    Ipv4AddressHelper a;
    a.SetBase("10.1.1.0", "255.255.255.0");
    a.Assign(d0);
    a.SetBase("192.0.2.0", "255.255.255.252");
    a.Assign(d1);
    a.SetBase("10.9.1.0", "255.255.255.0");
    Ipv4InterfaceContainer i2 = a.Assign(d2);
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    // The CE's egress onto the access link: the policy, or one FIFO.
    Ptr<NetDevice> wan = d1.Get(0);
    MqcHelper::SetTxRing(wan, 1);
    Ptr<MqcQueueDisc> qd;
    if (p.ceConfig.empty())
    {
        MqcHelper::InstallFifo(wan, p.fifoPackets);
    }
    else
    {
        qd = MqcHelper::InstallServicePolicy(wan, p.ceConfig, p.ceWanIf, &res.error);
        if (!qd)
        {
            Simulator::Destroy();
            return res;
        }
    }

    Ipv4Address to = i2.GetAddress(1);
    const uint16_t rtpPort = 16384;
    Ptr<QosFlowSink> sink = CreateObject<QosFlowSink>();
    sink->SetAttribute("Port", UintegerValue(rtpPort));
    dst->AddApplication(sink);
    sink->SetStartTime(Seconds(0));
    struct Src
    {
        Ptr<QosRtpSource> app;
        QosLlqFlow f;
    };
    std::vector<Src> srcs;
    auto add = [&](const std::string& name, const std::string& cls, const std::string& codec,
                   uint8_t dscp, uint32_t payload, uint8_t pt, double fps) {
        Ptr<QosRtpSource> s = CreateObject<QosRtpSource>();
        s->SetAttribute("Remote", AddressValue(InetSocketAddress(to, rtpPort)));
        s->SetAttribute("Dscp", UintegerValue(dscp));
        s->SetAttribute("PayloadSize", UintegerValue(payload));
        s->SetAttribute("PayloadType", UintegerValue(pt));
        s->SetAttribute("FlowId", UintegerValue(srcs.size() + 1));
        s->SetAttribute("VideoFrameRate", DoubleValue(fps));
        s->SetAttribute("VideoFrameBytes", UintegerValue(1800));
        s->AssignStreams(static_cast<int64_t>(srcs.size()) + 100);
        src->AddApplication(s);
        // Start after TCP has filled the queue; stagger the flows a little.
        s->SetStartTime(Seconds(2.0) + MilliSeconds(3 * srcs.size()));
        s->SetStopTime(p.duration);
        Src e;
        e.app = s;
        e.f.name = name;
        e.f.cls = cls;
        e.f.codec = codec;
        e.f.dscp = dscp;
        srcs.push_back(e);
    };
    if (p.voice)
    {
        add("voice-g711", "EF", "G.711", 46, 160, 0, 0);
        add("voice-g729", "EF", "G.729", 46, 20, 18, 0);
    }
    if (p.video)
    {
        add("video", "AF41", "", 34, 0 + 1200, 96, 30);
    }
    // A best-effort probe: what a best-effort packet waits.
    add("be-probe", "BE", "", 0, 172, 0, 0);

    const uint16_t tcpPort = 5001;
    PacketSinkHelper tcpSink("ns3::TcpSocketFactory",
                             InetSocketAddress(Ipv4Address::GetAny(), tcpPort));
    ApplicationContainer tcpSinks = tcpSink.Install(dst);
    for (uint32_t i = 0; i < p.bulkFlows; i++)
    {
        BulkSendHelper bulk("ns3::TcpSocketFactory", InetSocketAddress(to, tcpPort));
        bulk.SetAttribute("MaxBytes", UintegerValue(0));
        ApplicationContainer c = bulk.Install(src);
        c.Start(Seconds(0.1 + 0.05 * i));
        c.Stop(p.duration);
    }
    if (!p.pcapPrefix.empty())
    {
        access.EnablePcap(p.pcapPrefix + "-access", d1.Get(0), false);
    }
    // Bulk goodput over the window the RTP flows run in (2 s to the end).
    auto bulkRx = [tcpSinks]() {
        uint64_t rx = 0;
        for (uint32_t i = 0; i < tcpSinks.GetN(); i++)
        {
            rx += DynamicCast<PacketSink>(tcpSinks.Get(i))->GetTotalRx();
        }
        return rx;
    };
    uint64_t rxStart = 0;
    uint64_t rxEnd = 0;
    Simulator::Schedule(Seconds(2), [&]() { rxStart = bulkRx(); });
    Simulator::Schedule(p.duration, [&]() { rxEnd = bulkRx(); });
    Simulator::Stop(p.duration + Seconds(1));
    Simulator::Run();

    for (auto& e : srcs)
    {
        sink->GetSummary(static_cast<uint32_t>(&e - &srcs[0]) + 1, e.app->GetSent(), e.f.sum);
        e.f.delaysMs = sink->GetDelaysMs(static_cast<uint32_t>(&e - &srcs[0]) + 1);
        res.flows.push_back(e.f);
    }
    res.bulkGoodputBps = (rxEnd - rxStart) * 8.0 / (p.duration.GetSeconds() - 2.0);
    if (qd)
    {
        res.showPolicyMap = qd->ShowPolicyMap(p.ceWanIf);
        const QueueDisc::Stats& st = qd->GetStats();
        res.qdisc.received = st.nTotalReceivedPackets;
        res.qdisc.droppedBefore = st.nTotalDroppedPacketsBeforeEnqueue;
        res.qdisc.enqueued = st.nTotalEnqueuedPackets;
        res.qdisc.dequeued = st.nTotalDequeuedPackets;
        res.qdisc.queuedNow = qd->GetNPackets();
        for (uint32_t i = 0; i < qd->GetNClasses(); i++)
        {
            vpn_qos_class_stats c = qd->GetClassStats(i);
            res.qdisc.classMatched += c.matched_pkts;
            res.qdisc.classDropped += c.drop_tail + c.drop_policer;
            res.qdisc.classSent += c.sent_pkts;
            res.qdisc.classDepth += c.depth;
        }
    }
    Simulator::Destroy();
    return res;
}

} // namespace ns3
