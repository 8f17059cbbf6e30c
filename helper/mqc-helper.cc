#include "mqc-helper.h"

#include "ns3/data-rate.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/pointer.h"
#include "ns3/queue.h"
#include "ns3/queue-size.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/traffic-control-layer.h"

extern "C"
{
#include "conf/conf.h"
}

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MqcHelper");

namespace
{
void
SetError(std::string* error, const std::string& msg)
{
    if (error)
    {
        *error = msg;
    }
}

uint64_t
DeviceRate(Ptr<NetDevice> dev)
{
    DataRateValue rate;
    if (dev->GetAttributeFailSafe("DataRate", rate))
    {
        return rate.Get().GetBitRate();
    }
    return 0;
}

void
RemoveRoot(Ptr<NetDevice> dev)
{
    Ptr<TrafficControlLayer> tc = dev->GetNode()->GetObject<TrafficControlLayer>();
    if (tc && tc->GetRootQueueDiscOnDevice(dev))
    {
        tc->DeleteRootQueueDiscOnDevice(dev);
    }
}

Ptr<MqcQueueDisc>
Install(Ptr<NetDevice> dev,
        const vpn_conf* c,
        const std::string& name,
        std::string* error,
        uint64_t linkBps)
{
    if (linkBps == 0)
    {
        linkBps = DeviceRate(dev);
    }
    if (linkBps == 0)
    {
        SetError(error, "the device has no DataRate: give the link rate");
        return nullptr;
    }
    vpn_qos_policy* policy = nullptr;
    vpn_conf_error err{};
    if (vpn_qos_policy_build(c, name.c_str(), linkBps, &policy, &err) != 0)
    {
        std::string where = err.line ? "line " + std::to_string(err.line) + ": " : "";
        SetError(error, where + err.msg);
        return nullptr;
    }
    RemoveRoot(dev);
    TrafficControlHelper tch;
    tch.SetRootQueueDisc("ns3::MqcQueueDisc");
    QueueDiscContainer qd = tch.Install(dev);
    Ptr<MqcQueueDisc> q = DynamicCast<MqcQueueDisc>(qd.Get(0));
    if (q->SetPolicy(policy) != 0)
    {
        SetError(error, "policy-map " + name + " cannot be scheduled");
        return nullptr;
    }
    return q;
}

Ptr<MqcQueueDisc>
WithConf(const std::string& text,
         std::string* error,
         const std::function<Ptr<MqcQueueDisc>(const vpn_conf*)>& fn)
{
    vpn_conf* c = nullptr;
    vpn_conf_error err{};
    if (vpn_conf_parse(text.data(), text.size(), &c, &err) != 0)
    {
        SetError(error, "line " + std::to_string(err.line) + ": " + err.msg);
        return nullptr;
    }
    Ptr<MqcQueueDisc> q = fn(c);
    vpn_conf_del(c);
    return q;
}
} // namespace

Ptr<MqcQueueDisc>
MqcHelper::InstallServicePolicy(Ptr<NetDevice> dev,
                                const std::string& iosText,
                                const std::string& ifName,
                                std::string* error,
                                uint64_t linkBps)
{
    NS_LOG_FUNCTION(dev << ifName);
    return WithConf(iosText, error, [&](const vpn_conf* c) -> Ptr<MqcQueueDisc> {
        const vpn_conf_interface* f = vpn_conf_find_interface(c, ifName.c_str());
        if (!f || !f->service_policy_out[0])
        {
            SetError(error, "interface " + ifName + " has no service-policy output");
            return nullptr;
        }
        return Install(dev, c, f->service_policy_out, error, linkBps);
    });
}

Ptr<MqcQueueDisc>
MqcHelper::InstallPolicyMap(Ptr<NetDevice> dev,
                            const std::string& iosText,
                            const std::string& policyMap,
                            std::string* error,
                            uint64_t linkBps)
{
    NS_LOG_FUNCTION(dev << policyMap);
    return WithConf(iosText, error, [&](const vpn_conf* c) {
        return Install(dev, c, policyMap, error, linkBps);
    });
}

void
MqcHelper::InstallFifo(Ptr<NetDevice> dev, uint32_t packets)
{
    NS_LOG_FUNCTION(dev << packets);
    RemoveRoot(dev);
    TrafficControlHelper tch;
    tch.SetRootQueueDisc("ns3::FifoQueueDisc",
                         "MaxSize",
                         QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, packets)));
    tch.Install(dev);
}

void
MqcHelper::SetTxRing(Ptr<NetDevice> dev, uint32_t packets)
{
    NS_LOG_FUNCTION(dev << packets);
    PointerValue q;
    if (dev->GetAttributeFailSafe("TxQueue", q) && q.Get<QueueBase>())
    {
        q.Get<QueueBase>()->SetMaxSize(QueueSize(QueueSizeUnit::PACKETS, packets));
    }
}

} // namespace ns3
