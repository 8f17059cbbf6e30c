/*
 * The scenario runner: builds and runs the network a scenario file
 * describes (scenarios/NAME/scenario.ini, read with GLib's GKeyFile), through
 * the module's helpers only: FlexVpnHelper (routers from IOS text),
 * GetVpnHelper (key servers and group members), MplsProviderHelper (an MPLS
 * provider core), QosRtpSource/QosFlowSink (voice and video), VpnTraceHelper
 * and VpnReport (pcaps, key files, show snapshots, summary, CSV, plots).
 *
 *   vpn-scenario SCENARIO_DIR|SCENARIO.ini [--out=DIR] [--set KEY=VALUE ...]
 *                [--check] [ns-3 options such as --RngRun=N]
 *
 * Any error in the scenario or a router configuration is reported as
 * "FILE:LINE: message" (or "--set KEY: message") with exit status 2, before
 * anything is written. --check validates, prints the scenario with every
 * default filled in, and writes nothing. The format is described in the
 * README ("Scenario files").
 */
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/csma-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "ns3/vpn-module.h"

#include <glib.h>

extern "C" {
#include "conf/conf.h"
#include "getvpn/getvpn.h"
}

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <vector>

using namespace ns3;

namespace
{

// In this namespace: GLib has a function g_log at global scope.
NS_LOG_COMPONENT_DEFINE("VpnScenario");

/** An error in the scenario or a configuration: "FILE:LINE: message". */
struct ScenarioError : std::runtime_error
{
    explicit ScenarioError(const std::string& m)
        : std::runtime_error(m)
    {
    }
};

std::string
Trim(const std::string& s)
{
    size_t a = s.find_first_not_of(" \t\r");
    size_t b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string>
Words(const std::string& s)
{
    std::istringstream in(s);
    std::vector<std::string> w;
    std::string x;
    while (in >> x)
    {
        w.push_back(x);
    }
    return w;
}

bool
ReadText(const std::string& path, std::string& out)
{
    std::ifstream in(path);
    if (!in)
    {
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    out = s.str();
    return true;
}

// Sections and the keys each may hold.
const std::map<std::string, std::set<std::string>> kKeys = {
    {"scenario", {"title", "duration", "pcap", "routing", "budget"}},
    {"node", {"role", "config", "initiate", "start", "gateway", "join-spread"}},
    {"link", {"ends", "type", "addresses", "interfaces", "rate", "delay", "mtu", "loss", "queue",
              "vrf", "prefixes"}},
    {"provider", {"type", "php", "ttl", "core-mtu", "loopbacks", "core-network"}},
    {"flow", {"profile", "from", "to", "group", "dscp", "start", "stop"}},
    {"mroute", {"node", "vrf", "group", "source", "in", "out"}},
    {"tunnel", {"ends", "mode", "over", "addresses", "transform", "routes"}},
    {"event", {"at", "action", "target", "peer", "sa"}},
};

/**
 * The scenario file: GKeyFile holds the values; our own scan of the text
 * knows on which line each section and key is (GKeyFile does not say) and
 * refuses what GKeyFile would silently accept (unknown or repeated keys).
 */
class ScenarioFile
{
  public:
    struct Section
    {
        std::string type; // "node", "link", ...
        std::string name; // "HUB1" ("" for [scenario] and [provider])
        std::string group; // as written: "node HUB1"
        int line;
    };

    void Load(const std::string& path)
    {
        m_path = path;
        std::string text;
        if (!ReadText(path, text))
        {
            throw ScenarioError(path + ": cannot read the scenario file");
        }
        std::istringstream in(text);
        std::string raw;
        int n = 0;
        Section* cur = nullptr;
        while (std::getline(in, raw))
        {
            n++;
            std::string l = Trim(raw);
            if (l.empty() || l[0] == '#')
            {
                continue;
            }
            if (l[0] == '[')
            {
                if (l.back() != ']')
                {
                    throw ScenarioError(At(n) + "a section header ends with ']'");
                }
                std::vector<std::string> w = Words(l.substr(1, l.size() - 2));
                if (w.empty() || !kKeys.count(w[0]))
                {
                    throw ScenarioError(At(n) + "unknown section '" + l +
                                        "' (scenario, provider, node NAME, link NAME, flow NAME, mroute NAME, "
                                        "tunnel NAME, event NAME)");
                }
                bool named = w[0] != "scenario" && w[0] != "provider";
                if (named != (w.size() == 2) || w.size() > 2)
                {
                    throw ScenarioError(At(n) + "[" + w[0] + (named ? " NAME]" : "]") +
                                        (named ? " takes one name" : " takes no name"));
                }
                std::string group = Trim(l.substr(1, l.size() - 2));
                for (const Section& s : m_sections)
                {
                    if (s.type == w[0] && s.name == (named ? w[1] : ""))
                    {
                        throw ScenarioError(At(n) + "[" + group + "] again (first on line " +
                                            std::to_string(s.line) + ")");
                    }
                }
                m_sections.push_back({w[0], named ? w[1] : "", group, n});
                cur = &m_sections.back();
                continue;
            }
            size_t eq = l.find('=');
            if (eq == std::string::npos)
            {
                throw ScenarioError(At(n) + "expected '[section]' or 'key = value', not '" + l + "'");
            }
            if (!cur)
            {
                throw ScenarioError(At(n) + "'" + l + "' comes before any [section]");
            }
            std::string key = Trim(l.substr(0, eq));
            if (!kKeys.at(cur->type).count(key))
            {
                std::string known;
                for (const std::string& k : kKeys.at(cur->type))
                {
                    known += (known.empty() ? "" : ", ") + k;
                }
                throw ScenarioError(At(n) + "unknown key '" + key + "' in [" + cur->group + "] (" +
                                    known + ")");
            }
            auto id = std::make_pair(cur->group, key);
            if (m_lines.count(id))
            {
                throw ScenarioError(At(n) + "'" + key + "' again in [" + cur->group +
                                    "] (first on line " + std::to_string(m_lines[id]) + ")");
            }
            m_lines[id] = n;
        }
        m_kf.reset(g_key_file_new(), &g_key_file_free);
        GError* err = nullptr;
        if (!g_key_file_load_from_data(m_kf.get(), text.c_str(), text.size(), G_KEY_FILE_NONE, &err))
        {
            std::string m = err->message;
            g_error_free(err);
            throw ScenarioError(path + ": " + m);
        }
    }

    /** Applies --set GROUP.KEY=VALUE ("link.wan.delay=50ms", "scenario.duration=5"). */
    void Set(const std::string& assignment)
    {
        size_t eq = assignment.find('=');
        size_t dot = assignment.rfind('.', eq);
        if (eq == std::string::npos || dot == std::string::npos)
        {
            throw ScenarioError("--set " + assignment + ": expected SECTION[.NAME].KEY=VALUE");
        }
        std::string group = assignment.substr(0, dot);
        size_t first = group.find('.');
        if (first != std::string::npos)
        {
            group[first] = ' ';
        }
        std::string key = assignment.substr(dot + 1, eq - dot - 1);
        const Section* s = Find(group);
        if (!s)
        {
            throw ScenarioError("--set " + assignment + ": the scenario has no [" + group + "]");
        }
        if (!kKeys.at(s->type).count(key))
        {
            throw ScenarioError("--set " + assignment + ": unknown key '" + key + "' in [" + group + "]");
        }
        g_key_file_set_value(m_kf.get(), group.c_str(), key.c_str(), assignment.substr(eq + 1).c_str());
        m_set[{group, key}] = "--set " + assignment.substr(0, eq);
    }

    const Section* Find(const std::string& group) const
    {
        for (const Section& s : m_sections)
        {
            if (s.group == group)
            {
                return &s;
            }
        }
        return nullptr;
    }

    std::vector<const Section*> OfType(const std::string& type) const
    {
        std::vector<const Section*> v;
        for (const Section& s : m_sections)
        {
            if (s.type == type)
            {
                v.push_back(&s);
            }
        }
        return v;
    }

    bool Has(const Section& s, const std::string& key) const
    {
        return g_key_file_has_key(m_kf.get(), s.group.c_str(), key.c_str(), nullptr);
    }

    std::string Get(const Section& s, const std::string& key, const std::string& def = "") const
    {
        gchar* v = g_key_file_get_string(m_kf.get(), s.group.c_str(), key.c_str(), nullptr);
        if (!v)
        {
            return def;
        }
        std::string r = Trim(v);
        g_free(v);
        return r;
    }

    /** "FILE:LINE: " of a key (of its section when absent; "--set K: " when set so). */
    std::string Where(const Section& s, const std::string& key) const
    {
        auto set = m_set.find({s.group, key});
        if (set != m_set.end())
        {
            return set->second + ": ";
        }
        auto l = m_lines.find({s.group, key});
        return At(l != m_lines.end() ? l->second : s.line);
    }

    std::string At(int line) const
    {
        return m_path + ":" + std::to_string(line) + ": ";
    }

    const std::string& Path() const
    {
        return m_path;
    }

  private:
    std::string m_path;
    std::vector<Section> m_sections; // reserved below: pointers stay valid
    std::map<std::pair<std::string, std::string>, int> m_lines;
    std::map<std::pair<std::string, std::string>, std::string> m_set;
    std::shared_ptr<GKeyFile> m_kf;

  public:
    ScenarioFile()
    {
        m_sections.reserve(4096);
    }
};

// ---- value parsers: each throws with the key's FILE:LINE ----

double
Number(const ScenarioFile& f, const ScenarioFile::Section& s, const std::string& key, double def,
       double lo, double hi)
{
    if (!f.Has(s, key))
    {
        return def;
    }
    std::string v = f.Get(s, key);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || !std::isfinite(d) || d < lo || d > hi)
    {
        std::ostringstream m;
        m << f.Where(s, key) << key << " '" << v << "': a number from " << lo << " to " << hi
          << " is needed";
        throw ScenarioError(m.str());
    }
    return d;
}

bool
Bool(const ScenarioFile& f, const ScenarioFile::Section& s, const std::string& key, bool def)
{
    if (!f.Has(s, key))
    {
        return def;
    }
    std::string v = f.Get(s, key);
    if (v == "true" || v == "yes" || v == "1")
    {
        return true;
    }
    if (v == "false" || v == "no" || v == "0")
    {
        return false;
    }
    throw ScenarioError(f.Where(s, key) + key + " '" + v + "': true or false is needed");
}

std::string
Choice(const ScenarioFile& f,
       const ScenarioFile::Section& s,
       const std::string& key,
       const std::string& def,
       const std::vector<std::string>& allowed)
{
    std::string v = f.Get(s, key, def);
    for (const std::string& a : allowed)
    {
        if (v == a)
        {
            return v;
        }
    }
    std::string list;
    for (const std::string& a : allowed)
    {
        list += (list.empty() ? "" : ", ") + a;
    }
    if (v.empty())
    {
        throw ScenarioError(f.Where(s, key) + "[" + s.group + "] needs " + key + " (" + list + ")");
    }
    throw ScenarioError(f.Where(s, key) + key + " '" + v + "' is not one of " + list);
}

std::string
Pattern(const ScenarioFile& f,
        const ScenarioFile::Section& s,
        const std::string& key,
        const std::string& def,
        const std::string& re,
        const std::string& what)
{
    std::string v = f.Get(s, key, def);
    if (!std::regex_match(v, std::regex(re)))
    {
        throw ScenarioError(f.Where(s, key) + key + " '" + v + "': " + what);
    }
    return v;
}

std::string
Num(double d)
{
    std::ostringstream o;
    o << d;
    return o.str();
}

const char* kRate = "[0-9]+(\\.[0-9]+)?(bps|kbps|Kbps|Mbps|Gbps)";
const char* kDelay = "[0-9]+(\\.[0-9]+)?(s|ms|us|ns)";

bool
ParsePrefix(const std::string& text, Ipv4Address& addr, uint8_t& len)
{
    size_t slash = text.find('/');
    if (slash == std::string::npos)
    {
        return false;
    }
    in_addr a{};
    if (inet_pton(AF_INET, text.substr(0, slash).c_str(), &a) != 1)
    {
        return false;
    }
    std::string l = text.substr(slash + 1);
    if (l.empty() || l.size() > 2 || l.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(l) > 32)
    {
        return false;
    }
    addr = Ipv4Address(ntohl(a.s_addr));
    len = static_cast<uint8_t>(std::stoi(l));
    return true;
}

Ipv4Mask
MaskOf(uint8_t len)
{
    return Ipv4Mask(len == 0 ? 0 : 0xffffffffu << (32 - len));
}

// ---- the scenario as data ----

struct NodeSpec
{
    std::string name, role, config, configPath;
    bool initiate{false};
    double start{0};
    bool hasGateway{false};
    Ipv4Address gateway;
    double joinSpread{0}; // a client: it joins at start + U(0, joinSpread)
    const ScenarioFile::Section* sec{nullptr};
    Ptr<Node> node;
    std::string configText;
    std::map<std::string, Ptr<NetDevice>> ifaces; // GET VPN: config interface name -> device
    Ptr<Ikev2Daemon> ike;
    Ptr<GdoiDaemon> gdoi;
    bool hasAddress{false};
    Ipv4Address firstAddress;
    // a remote-access client: when it joined, when the hub's address was on
    // its tunnel (negative: never), that address
    Time joinAt;
    Time assignedAt{Seconds(-1)};
    Ipv4Address assigned;
};

struct LinkSpec
{
    std::string name, type;
    std::vector<std::string> ends;
    std::vector<std::string> addresses, interfaces;
    std::string rate, delay, queue, vrf;
    uint32_t mtu{1500};
    double loss{0};
    std::vector<MplsProviderHelper::Prefix> prefixes;
    const ScenarioFile::Section* sec{nullptr};
    NetDeviceContainer devs;
    std::vector<Ptr<RateErrorModel>> errors;
    bool provider{false}; // built by MplsProviderHelper (core link or PE-CE)
    bool core{false};     // an MPLS core link (P/PE to P/PE): its devices are the helper's Ethernet pair
    uint32_t site{0};      // PE-CE: MplsProviderHelper's site index
};

struct FlowSpec
{
    std::string name, profile, from, to;
    bool multicast{false};
    Ipv4Address group;              // multicast: the destination
    std::vector<std::string> receivers; // multicast: the nodes listening (to = ...)
    uint8_t dscp{0};
    double start{0}, stop{0};
    Ptr<QosRtpSource> rtp;
    Ptr<QosFlowSink> sink;
    uint32_t id{0};
    Ptr<PacketSink> tcpSink;
    uint16_t port{0};     // bulk-tcp: the sink's port
    double startedAt{0};  // when its source was installed (a client's flow: its address's time)
};

/**
 * A static multicast route: on a node (Ipv4StaticRouting: group, input
 * interface, output interfaces) or in a VRF of the MPLS provider
 * (MplsProviderHelper::AddMulticastRoute: ingress replication to sites).
 */
struct MrouteSpec
{
    std::string name, node, vrf, in;
    std::vector<std::string> out; // links
    std::string where;            // "FILE:LINE: " of its section, for errors found building
    Ipv4Address group, source;
    uint8_t groupLen{32}, sourceLen{0};
};

/** A manually keyed IPsec tunnel between two nodes (VpnManualKeyHelper, RFC 4301 4.5). */
struct TunnelSpec
{
    std::string name, mode, over, transform;
    std::vector<std::string> ends;
    Ipv4Address addr[2];
    uint8_t len[2]{30, 30};
    bool hasRoute[2]{false, false};
    Ipv4Address route[2];
    uint8_t routeLen[2]{0, 0};
    Ipv4Address wan[2]; // each end's address on the link it runs over
    Ptr<VpnTunnelNetDevice> dev[2];
};

struct EventSpec
{
    std::string name, action, target, sa;
    bool hasPeer{false};
    Ipv4Address peer;
    double at{0};
};

struct Scenario
{
    std::string dir, name, title, pcap, routing;
    double duration{20};
    double budget{150};
    bool mpls{false};
    bool php{true};
    std::string ttl{"uniform"};
    uint32_t coreMtu{1600};
    std::string loopbacks{"10.255.0.0"};
    std::string coreNetwork{"10.0.0.0"};
    std::vector<NodeSpec> nodes;
    std::vector<LinkSpec> links;
    std::vector<FlowSpec> flows;
    std::vector<MrouteSpec> mroutes;
    std::vector<TunnelSpec> tunnels;
    std::vector<EventSpec> events;

    NodeSpec* FindNode(const std::string& n)
    {
        for (NodeSpec& x : nodes)
        {
            if (x.name == n)
            {
                return &x;
            }
        }
        return nullptr;
    }

    LinkSpec* FindLink(const std::string& n)
    {
        for (LinkSpec& x : links)
        {
            if (x.name == n)
            {
                return &x;
            }
        }
        return nullptr;
    }
};

bool
IsProviderRole(const std::string& role)
{
    return role == "pe" || role == "p";
}

bool
IsGetVpnRole(const std::string& role)
{
    return role == "key-server" || role == "group-member";
}

/** A FlexVPN IKEv2 node: a router, or a remote-access client (an initiator
 *  that takes its address from the hub). */
bool
IsIkeRole(const std::string& role)
{
    return role == "router" || role == "client";
}

/**
 * A client's configuration: its IKEv2 profile authenticates with EAP
 * (`authentication local eap METHOD username U password P`), so that the
 * hub asks for its identity and gives it an address (RFC 7296 2.16, 3.15).
 * Returns "" when it does, else the message, with \p line the profile's
 * line (or 0). A configuration that does not parse is left to
 * FlexVpnHelper::Check, which names the line.
 */
std::string
ClientConfigProblem(const std::string& text, int& line)
{
    vpn_conf* conf = nullptr;
    vpn_conf_error err{};
    line = 0;
    if (vpn_conf_parse(text.c_str(), text.size(), &conf, &err) != 0)
    {
        return "";
    }
    std::string problem = "a client authenticates to its hub with EAP ('authentication local eap mschapv2 "
                          "username U password P' in its IKEv2 profile); a pre-shared-key site is a router "
                          "with initiate = true";
    for (size_t i = 0; i < conf->n_profile; i++)
    {
        if (conf->profile[i].auth_local == VPN_CONF_AUTH_EAP)
        {
            problem.clear();
            break;
        }
        line = line ? line : conf->profile[i].line;
    }
    vpn_conf_del(conf);
    return problem;
}

/** Reads and checks everything the file says; builds nothing. */
void
Parse(const ScenarioFile& f, Scenario& sc)
{
    const ScenarioFile::Section* top = f.Find("scenario");
    if (!top)
    {
        throw ScenarioError(f.Path() + ":1: the file has no [scenario] section");
    }
    sc.title = f.Get(*top, "title", sc.title);
    sc.duration = Number(f, *top, "duration", 20, 0.001, 1e6);
    sc.budget = Number(f, *top, "budget", 150, 0.001, 1e6);
    sc.pcap = f.Get(*top, "pcap", "all");
    const ScenarioFile::Section* prov = f.Find("provider");
    if (prov)
    {
        sc.mpls = Choice(f, *prov, "type", "mpls", {"mpls", "ip"}) == "mpls";
    }
    // A plain IP provider's routers forward by global routing.
    sc.routing = Choice(f, *top, "routing", prov && !sc.mpls ? "global" : "static", {"static", "global"});
    if (prov)
    {
        const ScenarioFile::Section* p = prov;
        sc.php = Bool(f, *p, "php", true);
        sc.ttl = Choice(f, *p, "ttl", "uniform", {"uniform", "pipe"});
        sc.coreMtu = static_cast<uint32_t>(Number(f, *p, "core-mtu", 1600, 576, 9000));
        const char* v4 = "(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}";
        sc.loopbacks = Pattern(f, *p, "loopbacks", "10.255.0.0", v4, "an IPv4 address is needed");
        sc.coreNetwork = Pattern(f, *p, "core-network", "10.0.0.0", v4, "an IPv4 address is needed");
    }

    for (const ScenarioFile::Section* s : f.OfType("node"))
    {
        NodeSpec n;
        n.sec = s;
        n.name = s->name;
        n.role = Choice(f, *s, "role", "", {"host", "router", "client", "key-server", "group-member", "pe", "p"});
        bool configured = IsIkeRole(n.role) || IsGetVpnRole(n.role);
        if (configured && !f.Has(*s, "config"))
        {
            throw ScenarioError(f.Where(*s, "config") + "a " + n.role + " needs config = FILE");
        }
        if (!configured && f.Has(*s, "config"))
        {
            throw ScenarioError(f.Where(*s, "config") + "a " + n.role + " takes no configuration");
        }
        if (IsProviderRole(n.role) && !f.Find("provider"))
        {
            throw ScenarioError(f.Where(*s, "role") + "a provider router needs a [provider] section");
        }
        n.config = f.Get(*s, "config");
        if (configured)
        {
            n.configPath = n.config[0] == '/' ? n.config : sc.dir + "/" + n.config;
            if (!ReadText(n.configPath, n.configText))
            {
                throw ScenarioError(f.Where(*s, "config") + "cannot read " + n.configPath);
            }
        }
        if (n.role == "client")
        {
            int line = 0;
            std::string bad = ClientConfigProblem(n.configText, line);
            if (!bad.empty())
            {
                throw ScenarioError(FlexVpnHelper::FormatError(n.configPath, static_cast<uint32_t>(line), bad));
            }
        }
        n.initiate = Bool(f, *s, "initiate", false);
        if (f.Has(*s, "initiate") && n.role != "router")
        {
            throw ScenarioError(f.Where(*s, "initiate") + "initiate is for FlexVPN routers" +
                                (n.role == "client" ? " (a client always initiates)" : ""));
        }
        n.initiate = n.initiate || n.role == "client";
        n.start = Number(f, *s, "start", n.initiate ? 0.5 : 0.1, 0, 1e6);
        if (f.Has(*s, "join-spread") && n.role != "client")
        {
            throw ScenarioError(f.Where(*s, "join-spread") + "join-spread is for clients (role = client)");
        }
        n.joinSpread = Number(f, *s, "join-spread", 0, 0, 1e6);
        if (f.Has(*s, "gateway"))
        {
            in_addr a{};
            std::string g = f.Get(*s, "gateway");
            if (inet_pton(AF_INET, g.c_str(), &a) != 1)
            {
                throw ScenarioError(f.Where(*s, "gateway") + "gateway '" + g + "' is not an IPv4 address");
            }
            n.hasGateway = true;
            n.gateway = Ipv4Address(ntohl(a.s_addr));
        }
        sc.nodes.push_back(n);
    }
    if (sc.nodes.empty())
    {
        throw ScenarioError(f.Path() + ":1: the scenario has no [node NAME]");
    }

    for (const ScenarioFile::Section* s : f.OfType("link"))
    {
        LinkSpec l;
        l.sec = s;
        l.name = s->name;
        l.ends = Words(f.Get(*s, "ends"));
        if (l.ends.size() < 2)
        {
            throw ScenarioError(f.Where(*s, "ends") + "a link needs ends = NODE NODE [NODE...]");
        }
        std::set<std::string> seen;
        size_t providerEnds = 0;
        for (const std::string& e : l.ends)
        {
            NodeSpec* n = sc.FindNode(e);
            if (!n)
            {
                throw ScenarioError(f.Where(*s, "ends") + "no [node " + e + "]");
            }
            if (!seen.insert(e).second)
            {
                throw ScenarioError(f.Where(*s, "ends") + e + " twice on one link");
            }
            providerEnds += IsProviderRole(n->role) ? 1 : 0;
        }
        l.type = Choice(f, *s, "type", l.ends.size() == 2 ? "p2p" : "csma", {"p2p", "csma"});
        if (l.type == "p2p" && l.ends.size() != 2)
        {
            throw ScenarioError(f.Where(*s, "type") + "a p2p link has two ends");
        }
        l.rate = Pattern(f, *s, "rate", "100Mbps", kRate, "a rate such as 10Mbps is needed");
        l.delay = Pattern(f, *s, "delay", "1ms", kDelay, "a delay such as 20ms is needed");
        l.mtu = static_cast<uint32_t>(Number(f, *s, "mtu", 1500, 576, 9000));
        l.loss = Number(f, *s, "loss", 0, 0, 1);
        l.queue = Pattern(f, *s, "queue", "100p", "[0-9]+p", "a queue size in packets such as 100p is needed");
        l.provider = sc.mpls && providerEnds > 0;
        std::vector<std::string> addr = Words(f.Get(*s, "addresses"));
        if (!addr.empty() && addr.size() != l.ends.size())
        {
            throw ScenarioError(f.Where(*s, "addresses") + "one address per end (" +
                                std::to_string(l.ends.size()) + "), '-' for none");
        }
        addr.resize(l.ends.size(), "-");
        for (size_t i = 0; i < addr.size(); i++)
        {
            NodeSpec* n = sc.FindNode(l.ends[i]);
            Ipv4Address a;
            uint8_t len = 0;
            if (addr[i] == "-")
            {
                continue;
            }
            if (addr[i].find(':') != std::string::npos)
            {
                throw ScenarioError(f.Where(*s, "addresses") + "'" + addr[i] +
                                    "': IPv6 is not supported in scenario files (the helpers number IPv4 only)");
            }
            if (!ParsePrefix(addr[i], a, len))
            {
                throw ScenarioError(f.Where(*s, "addresses") + "'" + addr[i] + "' is not ADDRESS/LENGTH");
            }
            if (IsGetVpnRole(n->role) && !l.provider)
            {
                // (on a link to a PE the address names the /30 the provider attaches)
                throw ScenarioError(f.Where(*s, "addresses") + n->name + " takes its addresses from " +
                                    n->config + ": write - for it");
            }
            if (!n->hasAddress)
            {
                n->hasAddress = true;
                n->firstAddress = a;
            }
        }
        l.addresses = addr;
        l.interfaces = Words(f.Get(*s, "interfaces"));
        if (!l.interfaces.empty() && l.interfaces.size() != l.ends.size())
        {
            throw ScenarioError(f.Where(*s, "interfaces") + "one interface name per end (" +
                                std::to_string(l.ends.size()) + "), '-' for none");
        }
        l.interfaces.resize(l.ends.size(), "-");
        for (size_t i = 0; i < l.ends.size(); i++)
        {
            if (IsGetVpnRole(sc.FindNode(l.ends[i])->role) && l.interfaces[i] == "-")
            {
                throw ScenarioError(f.Where(*s, "interfaces") + l.ends[i] +
                                    " needs the name of its interface in " +
                                    sc.FindNode(l.ends[i])->config);
            }
        }
        if (l.provider)
        {
            if (l.type != "p2p")
            {
                throw ScenarioError(f.Where(*s, "ends") + "provider links are point to point");
            }
            NodeSpec* a = sc.FindNode(l.ends[0]);
            NodeSpec* b = sc.FindNode(l.ends[1]);
            if (providerEnds == 1)
            {
                // PE-CE: the PE end first or second; the /30 is the helper's (PE .1, CE .2)
                NodeSpec* pe = IsProviderRole(a->role) ? a : b;
                if (pe->role != "pe")
                {
                    throw ScenarioError(f.Where(*s, "ends") + "sites attach to a PE, not to P " + pe->name);
                }
                l.vrf = f.Get(*s, "vrf");
                if (l.vrf.empty())
                {
                    throw ScenarioError(f.Where(*s, "vrf") + "a link to a PE needs vrf = NAME");
                }
                for (const std::string& p : Words(f.Get(*s, "prefixes")))
                {
                    Ipv4Address pa;
                    uint8_t pl = 0;
                    if (!ParsePrefix(p, pa, pl))
                    {
                        throw ScenarioError(f.Where(*s, "prefixes") + "'" + p + "' is not ADDRESS/LENGTH");
                    }
                    l.prefixes.emplace_back(pa, pl);
                }
                size_t ce = pe == a ? 1 : 0;
                Ipv4Address ca;
                uint8_t cl = 0;
                if (l.addresses[1 - ce] != "-" || !ParsePrefix(l.addresses[ce], ca, cl) || cl != 30 ||
                    (ca.Get() & 3) != 2)
                {
                    throw ScenarioError(f.Where(*s, "addresses") +
                                        "a PE-CE link is a /30: the PE is .1 (write -), the CE .2");
                }
                ce == 0 ? a->hasAddress = true : b->hasAddress = true;
                NodeSpec* cen = ce == 0 ? a : b;
                if (cen->firstAddress == Ipv4Address())
                {
                    cen->firstAddress = ca;
                }
            }
            else
            {
                for (const char* k : {"vrf", "prefixes", "addresses", "interfaces"})
                {
                    if (f.Has(*s, k))
                    {
                        throw ScenarioError(f.Where(*s, k) + std::string("a provider core link takes no ") + k +
                                            " (MplsProviderHelper numbers it)");
                    }
                }
            }
            for (const char* k : {"mtu", "queue", "loss", "type"})
            {
                if (f.Has(*s, k))
                {
                    throw ScenarioError(f.Where(*s, k) + std::string("MplsProviderHelper sets a provider link's ") +
                                        k + "; only rate and delay are taken");
                }
            }
        }
        else if (f.Has(*s, "vrf") || f.Has(*s, "prefixes"))
        {
            throw ScenarioError(f.Where(*s, f.Has(*s, "vrf") ? "vrf" : "prefixes") +
                                "vrf and prefixes are for links to a PE of an MPLS provider");
        }
        sc.links.push_back(l);
    }
    if (!sc.pcap.empty() && sc.pcap != "all" && sc.pcap != "none")
    {
        for (const std::string& p : Words(sc.pcap))
        {
            if (!sc.FindLink(p))
            {
                throw ScenarioError(f.Where(*top, "pcap") + "pcap names no [link " + p + "]");
            }
        }
    }

    for (const ScenarioFile::Section* s : f.OfType("flow"))
    {
        FlowSpec fl;
        fl.name = s->name;
        fl.profile = Choice(f, *s, "profile", "", {"voice-g711", "voice-g729", "video", "bulk-tcp"});
        if (!f.Get(*s, "group").empty())
        {
            // multicast: one source, every node of `to` listening on the group
            Ipv4Address g;
            uint8_t gl = 0;
            std::string gv = f.Get(*s, "group");
            if (!ParsePrefix(gv + "/32", g, gl) || !g.IsMulticast())
            {
                throw ScenarioError(f.Where(*s, "group") + "group '" + gv + "' is not an IPv4 multicast address");
            }
            if (fl.profile == "bulk-tcp")
            {
                throw ScenarioError(f.Where(*s, "group") + "a multicast flow is RTP (voice or video), not TCP");
            }
            fl.multicast = true;
            fl.group = g;
        }
        fl.receivers = Words(f.Get(*s, "to"));
        if (fl.receivers.size() > 1 && !fl.multicast)
        {
            throw ScenarioError(f.Where(*s, "to") + "one node receives a unicast flow (several: group = ADDRESS)");
        }
        for (const std::string& r : fl.receivers)
        {
            if (!sc.FindNode(r))
            {
                throw ScenarioError(f.Where(*s, "to") + "no [node " + r + "]");
            }
        }
        for (const char* k : {"from", "to"})
        {
            std::string v = std::string(k) == "to" && !fl.receivers.empty() ? fl.receivers[0] : f.Get(*s, k);
            NodeSpec* n = sc.FindNode(v);
            if (!n)
            {
                throw ScenarioError(f.Where(*s, k) + (v.empty() ? std::string("a flow needs ") + k + " = NODE"
                                                                : "no [node " + v + "]"));
            }
            if (std::string(k) == "to" && !n->hasAddress && !fl.multicast)
            {
                throw ScenarioError(f.Where(*s, k) + v + " has no address on any link");
            }
            (std::string(k) == "from" ? fl.from : fl.to) = v;
        }
        // a client's address is the hub's, known once it is connected: its
        // flows wait for it (RunScenario)
        bool fromClient = sc.FindNode(fl.from)->role == "client";
        bool toClient = sc.FindNode(fl.to)->role == "client";
        if ((fromClient || toClient) && fl.multicast)
        {
            throw ScenarioError(f.Where(*s, "group") + "a client's flows are unicast (it has its address from the hub)");
        }
        if (fromClient && toClient)
        {
            throw ScenarioError(f.Where(*s, "to") + "a flow between two clients is not supported (each waits for "
                                "its own address); send to a host behind the hub");
        }
        static const std::map<std::string, int> names = {
            {"ef", 46}, {"af41", 34}, {"af31", 26}, {"af21", 18}, {"af11", 10}, {"cs0", 0}, {"default", 0},
            {"cs1", 8}, {"cs3", 24}, {"cs5", 40}, {"cs6", 48}};
        int def = fl.profile == "video" ? 34 : fl.profile == "bulk-tcp" ? 0 : 46;
        std::string d = f.Get(*s, "dscp");
        if (d.empty())
        {
            fl.dscp = static_cast<uint8_t>(def);
        }
        else if (names.count(d))
        {
            fl.dscp = static_cast<uint8_t>(names.at(d));
        }
        else
        {
            fl.dscp = static_cast<uint8_t>(Number(f, *s, "dscp", def, 0, 63));
        }
        fl.start = Number(f, *s, "start", 1, 0, sc.duration);
        fl.stop = Number(f, *s, "stop", sc.duration, 0, sc.duration);
        if (fl.stop <= fl.start)
        {
            throw ScenarioError(f.Where(*s, "stop") + "a flow stops after it starts");
        }
        sc.flows.push_back(fl);
    }

    for (const ScenarioFile::Section* s : f.OfType("mroute"))
    {
        MrouteSpec m;
        m.name = s->name;
        m.where = f.At(s->line);
        std::string g = f.Get(*s, "group");
        if (g.empty())
        {
            throw ScenarioError(f.Where(*s, "group") + "an mroute needs group = ADDRESS[/LENGTH]");
        }
        if (!ParsePrefix(g.find('/') == std::string::npos ? g + "/32" : g, m.group, m.groupLen) ||
            !m.group.IsMulticast() || (m.groupLen < 4))
        {
            throw ScenarioError(f.Where(*s, "group") + "group '" + g +
                                "' is not an IPv4 multicast address or prefix (224.0.0.0/4 or longer)");
        }
        std::string src = f.Get(*s, "source", "0.0.0.0/0");
        if (!ParsePrefix(src.find('/') == std::string::npos ? src + "/32" : src, m.source, m.sourceLen))
        {
            throw ScenarioError(f.Where(*s, "source") + "source '" + src + "' is not ADDRESS[/LENGTH]");
        }
        m.out = Words(f.Get(*s, "out"));
        if (m.out.empty())
        {
            throw ScenarioError(f.Where(*s, "out") + "an mroute needs out = LINK [LINK...]");
        }
        bool vrf = f.Has(*s, "vrf");
        if (vrf == f.Has(*s, "node"))
        {
            throw ScenarioError(f.Where(*s, vrf ? "vrf" : "node") +
                                "an mroute is either on a node (node = NAME, in = LINK) or in the provider's "
                                "VRF (vrf = NAME)");
        }
        for (const std::string& o : m.out)
        {
            LinkSpec* l = sc.FindLink(o);
            if (!l)
            {
                throw ScenarioError(f.Where(*s, "out") + "no [link " + o + "]");
            }
        }
        if (vrf)
        {
            // the VRF's sites: links from a PE of the MPLS provider in that VRF
            m.vrf = f.Get(*s, "vrf");
            if (!sc.mpls)
            {
                throw ScenarioError(f.Where(*s, "vrf") + "vrf = is for an MPLS provider ([provider] type = mpls)");
            }
            if (f.Has(*s, "in"))
            {
                throw ScenarioError(f.Where(*s, "in") + "a VRF route replicates at the PE the packets enter: no in =");
            }
            for (const std::string& o : m.out)
            {
                LinkSpec* l = sc.FindLink(o);
                if (l->vrf != m.vrf)
                {
                    throw ScenarioError(f.Where(*s, "out") + o + " is not a site of VRF " + m.vrf);
                }
            }
        }
        else
        {
            m.node = f.Get(*s, "node");
            NodeSpec* n = sc.FindNode(m.node);
            if (!n)
            {
                throw ScenarioError(f.Where(*s, "node") + "no [node " + m.node + "]");
            }
            if (IsProviderRole(n->role) && sc.mpls)
            {
                throw ScenarioError(f.Where(*s, "node") + m.node +
                                    " is a provider router: write vrf = NAME for the provider's routes");
            }
            if (m.groupLen != 32)
            {
                throw ScenarioError(f.Where(*s, "group") + "a node's static multicast route is for one group "
                                    "(ns-3 matches the group exactly)");
            }
            m.in = f.Get(*s, "in");
            std::vector<std::string> all = m.out;
            all.insert(all.begin(), m.in);
            if (m.in.empty())
            {
                throw ScenarioError(f.Where(*s, "in") + "an mroute on a node needs in = LINK");
            }
            for (size_t i = 0; i < all.size(); i++)
            {
                LinkSpec* l = sc.FindLink(all[i]);
                const char* k = i == 0 ? "in" : "out";
                if (!l)
                {
                    throw ScenarioError(f.Where(*s, k) + "no [link " + all[i] + "]");
                }
                if (std::find(l->ends.begin(), l->ends.end(), m.node) == l->ends.end())
                {
                    throw ScenarioError(f.Where(*s, k) + "link " + all[i] + " does not end at " + m.node);
                }
            }
        }
        sc.mroutes.push_back(m);
    }

    for (const ScenarioFile::Section* s : f.OfType("tunnel"))
    {
        TunnelSpec t;
        t.name = s->name;
        t.ends = Words(f.Get(*s, "ends"));
        if (t.ends.size() != 2)
        {
            throw ScenarioError(f.Where(*s, "ends") + "a tunnel needs ends = NODE NODE");
        }
        for (const std::string& e : t.ends)
        {
            NodeSpec* n = sc.FindNode(e);
            if (!n)
            {
                throw ScenarioError(f.Where(*s, "ends") + "no [node " + e + "]");
            }
            if (n->role != "host")
            {
                throw ScenarioError(f.Where(*s, "ends") + "a manually keyed tunnel ends at a node of role host "
                                    "(a router's tunnels come from its configuration); " + e + " is a " + n->role);
            }
        }
        if (t.ends[0] == t.ends[1])
        {
            throw ScenarioError(f.Where(*s, "ends") + t.ends[0] + " twice on one tunnel");
        }
        t.mode = Choice(f, *s, "mode", "gre", {"gre", "vti"});
        t.over = f.Get(*s, "over");
        LinkSpec* over = sc.FindLink(t.over);
        if (!over)
        {
            throw ScenarioError(f.Where(*s, "over") + "a tunnel needs over = LINK (its ends' addresses there are "
                                "the tunnel's source and destination); no [link " + t.over + "]");
        }
        for (int i = 0; i < 2; i++)
        {
            auto at = std::find(over->ends.begin(), over->ends.end(), t.ends[i]);
            Ipv4Address a;
            uint8_t l = 0;
            if (at == over->ends.end() || !ParsePrefix(over->addresses[at - over->ends.begin()], a, l))
            {
                throw ScenarioError(f.Where(*s, "over") + t.ends[i] + " has no address on link " + t.over);
            }
            t.wan[i] = a;
        }
        std::vector<std::string> addr = Words(f.Get(*s, "addresses"));
        for (size_t i = 0; i < 2; i++)
        {
            if (addr.size() != 2 || !ParsePrefix(addr[i], t.addr[i], t.len[i]) || t.len[i] == 0)
            {
                throw ScenarioError(f.Where(*s, "addresses") +
                                    "a tunnel needs addresses = ADDRESS/LENGTH ADDRESS/LENGTH (one per end)");
            }
        }
        std::vector<std::string> routes = Words(f.Get(*s, "routes", "- -"));
        if (routes.size() != 2)
        {
            throw ScenarioError(f.Where(*s, "routes") + "one prefix per end routed into the tunnel, '-' for none");
        }
        for (int i = 0; i < 2; i++)
        {
            if (routes[i] == "-")
            {
                continue;
            }
            if (!ParsePrefix(routes[i], t.route[i], t.routeLen[i]))
            {
                throw ScenarioError(f.Where(*s, "routes") + "'" + routes[i] + "' is not ADDRESS/LENGTH");
            }
            t.hasRoute[i] = true;
        }
        // the transform's words as in a router configuration (the same parser and messages)
        t.transform = f.Get(*s, "transform", "esp-gcm 128");
        std::string text = "crypto ipsec transform-set T " + t.transform + "\n";
        vpn_conf* conf = nullptr;
        vpn_conf_error err{};
        if (vpn_conf_parse(text.c_str(), text.size(), &conf, &err) != 0)
        {
            throw ScenarioError(f.Where(*s, "transform") + "transform '" + t.transform + "': " + err.msg);
        }
        vpn_conf_del(conf);
        sc.tunnels.push_back(t);
    }

    for (const ScenarioFile::Section* s : f.OfType("event"))
    {
        EventSpec e;
        e.name = s->name;
        if (!f.Has(*s, "at"))
        {
            throw ScenarioError(f.Where(*s, "at") + "an event needs at = SECONDS");
        }
        e.at = Number(f, *s, "at", 0, 0, sc.duration);
        e.action = Choice(f, *s, "action", "",
                          {"link-down", "link-up", "node-stop", "node-start", "rekey", "clear-crypto-session"});
        e.target = f.Get(*s, "target");
        bool link = e.action == "link-down" || e.action == "link-up";
        if (link && !sc.FindLink(e.target))
        {
            throw ScenarioError(f.Where(*s, "target") + e.action + " needs target = LINK; no [link " +
                                e.target + "]");
        }
        NodeSpec* n = sc.FindNode(e.target);
        if (!link && !n)
        {
            throw ScenarioError(f.Where(*s, "target") + e.action + " needs target = NODE; no [node " +
                                e.target + "]");
        }
        if (e.action == "node-stop" && !IsIkeRole(n->role) && !IsGetVpnRole(n->role))
        {
            throw ScenarioError(f.Where(*s, "target") + "node-stop switches a router off; " +
                                e.target + " is a " + n->role);
        }
        if (e.action == "node-start" && !IsIkeRole(n->role) && !IsGetVpnRole(n->role))
        {
            throw ScenarioError(f.Where(*s, "target") + "node-start switches a router on again; " + e.target +
                                " is a " + n->role);
        }
        if (e.action == "rekey" && n->role != "key-server" && !IsIkeRole(n->role))
        {
            throw ScenarioError(f.Where(*s, "target") + "rekey is for a key server (crypto gdoi ks rekey) or a "
                                "FlexVPN router (its CHILD_SAs); " + e.target + " is a " + n->role);
        }
        if (e.action == "clear-crypto-session" && !IsIkeRole(n->role) && n->role != "group-member")
        {
            throw ScenarioError(f.Where(*s, "target") + "clear-crypto-session is for a FlexVPN router (its IKE "
                                "SAs) or a group member (it registers again); " + e.target + " is a " + n->role);
        }
        if (f.Has(*s, "sa") && e.action != "rekey")
        {
            throw ScenarioError(f.Where(*s, "sa") + "sa = is for rekey events");
        }
        if (e.action == "rekey")
        {
            e.sa = IsIkeRole(n->role) ? Choice(f, *s, "sa", "child", {"child", "ike"})
                                       : Choice(f, *s, "sa", "tek", {"tek", "kek"});
        }
        if (f.Has(*s, "peer"))
        {
            in_addr a{};
            std::string p = f.Get(*s, "peer");
            if ((e.action != "clear-crypto-session" && e.action != "rekey") || !IsIkeRole(n->role))
            {
                throw ScenarioError(f.Where(*s, "peer") +
                                    "peer = is for clear-crypto-session and rekey on a FlexVPN/DMVPN router");
            }
            if (inet_pton(AF_INET, p.c_str(), &a) != 1)
            {
                throw ScenarioError(f.Where(*s, "peer") + "peer '" + p + "' is not an IPv4 address");
            }
            e.hasPeer = true;
            e.peer = Ipv4Address(ntohl(a.s_addr));
        }

        sc.events.push_back(e);
    }
    // a node starts again only after it stopped, and stops only while running
    std::vector<const EventSpec*> order;
    for (const EventSpec& e : sc.events)
    {
        order.push_back(&e);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const EventSpec* a, const EventSpec* b) { return a->at < b->at; });
    std::set<std::string> stopped;
    for (const EventSpec* e : order)
    {
        bool stop = e->action == "node-stop";
        if (!stop && e->action != "node-start")
        {
            continue;
        }
        if (stopped.count(e->target) == (stop ? 1u : 0u))
        {
            const ScenarioFile::Section* s = f.Find("event " + e->name);
            throw ScenarioError(f.Where(*s, "at") + e->action + " of " + e->target + " at " +
                                Num(e->at) + " s: " + (stop ? "it is stopped already" : "it is not stopped"));
        }
        stop ? (void)stopped.insert(e->target) : (void)stopped.erase(e->target);
    }
}

/** The scenario with every default filled in (--check). */
std::string
Dump(const Scenario& sc)
{
    std::ostringstream o;
    o << "[scenario]\ntitle = " << sc.title << "\nduration = " << sc.duration << "\nbudget = " << sc.budget
      << "\npcap = " << sc.pcap << "\nrouting = " << sc.routing << "\n";
    o << "[provider]\ntype = " << (sc.mpls ? "mpls" : "ip") << "\nphp = " << (sc.php ? "true" : "false")
      << "\nttl = " << sc.ttl << "\ncore-mtu = " << sc.coreMtu << "\nloopbacks = " << sc.loopbacks
      << "\ncore-network = " << sc.coreNetwork << "\n";
    for (const NodeSpec& n : sc.nodes)
    {
        o << "[node " << n.name << "]\nrole = " << n.role << "\nconfig = " << n.config
          << "\ninitiate = " << (n.initiate ? "true" : "false") << "\nstart = " << n.start
          << "\njoin-spread = " << n.joinSpread << "\ngateway = ";
        if (n.hasGateway)
        {
            o << n.gateway;
        }
        o << "\n";
    }
    for (const LinkSpec& l : sc.links)
    {
        o << "[link " << l.name << "]\nends =";
        for (const std::string& e : l.ends)
        {
            o << " " << e;
        }
        o << "\ntype = " << l.type << "\naddresses =";
        for (const std::string& a : l.addresses)
        {
            o << " " << a;
        }
        o << "\ninterfaces =";
        for (const std::string& a : l.interfaces)
        {
            o << " " << a;
        }
        o << "\nrate = " << l.rate << "\ndelay = " << l.delay << "\nmtu = " << l.mtu << "\nloss = " << l.loss
          << "\nqueue = " << l.queue << "\nvrf = " << l.vrf << "\nprefixes =";
        for (const auto& p : l.prefixes)
        {
            o << " " << p.network << "/" << static_cast<unsigned>(p.length);
        }
        o << "\n";
    }
    for (const FlowSpec& f : sc.flows)
    {
        o << "[flow " << f.name << "]\nprofile = " << f.profile << "\nfrom = " << f.from << "\nto =";
        for (const std::string& r : f.receivers)
        {
            o << " " << r;
        }
        o << "\ngroup = ";
        if (f.multicast)
        {
            o << f.group;
        }
        o << "\ndscp = " << static_cast<unsigned>(f.dscp) << "\nstart = " << f.start << "\nstop = " << f.stop
          << "\n";
    }
    for (const MrouteSpec& m : sc.mroutes)
    {
        o << "[mroute " << m.name << "]\nnode = " << m.node << "\nvrf = " << m.vrf << "\ngroup = " << m.group << "/"
          << static_cast<unsigned>(m.groupLen) << "\nsource = " << m.source << "/"
          << static_cast<unsigned>(m.sourceLen) << "\nin = " << m.in << "\nout =";
        for (const std::string& l : m.out)
        {
            o << " " << l;
        }
        o << "\n";
    }
    for (const EventSpec& e : sc.events)
    {
        o << "[event " << e.name << "]\nat = " << e.at << "\naction = " << e.action << "\ntarget = " << e.target
          << "\npeer = ";
        if (e.hasPeer)
        {
            o << e.peer;
        }
        o << "\nsa = " << e.sa << "\n";
    }
    return o.str();
}

/** "HOST line N: reason" from GetVpnHelper -> "FILE:N: reason". */
std::string
FileLine(const NodeSpec& n, const std::string& err)
{
    std::smatch m;
    if (std::regex_match(err, m, std::regex(".* line ([0-9]+): (.*)")))
    {
        return n.configPath + ":" + m[1].str() + ": " + m[2].str();
    }
    return n.configPath + ": " + err;
}

void
SetLinkLoss(LinkSpec* l, double rate)
{
    for (Ptr<RateErrorModel> em : l->errors)
    {
        em->SetRate(rate);
    }
}

void
PrintRoutes(Ptr<Node> node, std::string path)
{
    Ptr<OutputStreamWrapper> stream = Create<OutputStreamWrapper>(path, std::ios::out);
    node->GetObject<Ipv4>()->GetRoutingProtocol()->PrintRoutingTable(stream, Time::S);
}

/** Writes the simulated time into \p path every simulated second (sweep progress);
 *  the next write is held in \p events. */
void
Progress(std::string path, VpnTrackedEvents* events)
{
    std::ofstream(path) << static_cast<int64_t>(Simulator::Now().GetSeconds()) << "\n";
    events->Add(Simulator::Schedule(Seconds(1), &Progress, path, events));
}

uint32_t
IkeSaCount(const NodeSpec* n)
{
    Ptr<VpnIpsecStack> st = n->node->GetObject<VpnIpsecStack>();
    return st && st->GetRouter() ? st->GetIkeSaCount() : 0;
}

uint32_t
EspSaCount(const NodeSpec* n)
{
    Ptr<VpnIpsecStack> st = n->node->GetObject<VpnIpsecStack>();
    return st && st->GetRouter() ? st->GetSaCount() : 0;
}

/** A group member's TEKs (inbound and outbound, every group); 0 while switched off. */
uint32_t
TekCount(const NodeSpec* n)
{
    const vpn_getvpn_node* core = n->gdoi ? n->gdoi->GetCore() : nullptr;
    size_t t = 0;
    for (size_t g = 0; core && g < vpn_getvpn_node_n_groups(core); g++)
    {
        const vpn_sad* sad = vpn_getvpn_node_sad(core, g);
        t += sad ? vpn_sad_count(sad) : 0;
    }
    return static_cast<uint32_t>(t);
}

void
LogEvent(std::shared_ptr<std::ofstream> log, const EventSpec& e, std::string what)
{
    *log << Simulator::Now().GetSeconds() << " s " << e.name << ": " << e.action << " " << e.target << ": "
         << what << std::endl;
}

void
SampleSaCounts(std::shared_ptr<std::ofstream> csv, std::vector<NodeSpec*> nodes, Time until,
               VpnTrackedEvents* events)
{
    *csv << Simulator::Now().GetSeconds();
    for (const NodeSpec* n : nodes)
    {
        if (n->gdoi)
        {
            *csv << "," << n->gdoi->GetRegisteredGroups() << "," << TekCount(n);
            continue;
        }
        *csv << "," << IkeSaCount(n) << "," << EspSaCount(n);
    }
    *csv << "\n";
    if (Simulator::Now() + MilliSeconds(100) < until)
    {
        events->Add(Simulator::Schedule(MilliSeconds(100), &SampleSaCounts, csv, nodes, until, events));
    }
}

/**
 * A node event through the module: the stack's power switch, `clear crypto
 * session` (IKE SAs, or `clear crypto gdoi` on a member), rekeys (the
 * router's CHILD_SAs or IKE SAs; `crypto gdoi ks rekey` on a key server).
 */
void
NodeEvent(std::shared_ptr<std::ofstream> log, const EventSpec& e, NodeSpec* n)
{
    Ptr<VpnIpsecStack> st = VpnIpsecStack::GetOrCreate(n->node);
    std::ostringstream what;
    if (n->gdoi && n->role == "key-server")
    {
        what << "key server; ";
    }
    else if (n->gdoi)
    {
        what << "registered groups " << n->gdoi->GetRegisteredGroups() << ", TEKs " << TekCount(n) << " before; ";
    }
    else
    {
        what << "IKE SAs " << IkeSaCount(n) << ", ESP SAs " << EspSaCount(n) << " before; ";
    }
    if (e.action == "node-stop")
    {
        what << (st->PowerOff() ? "switched off" : "already off");
    }
    else if (e.action == "node-start")
    {
        bool on = st->PowerOn();
        what << (on ? "switched on" : "already on");
        if (on && n->role == "group-member")
        {
            what << ", registering anew"; // the stack gave the fresh router its groups
        }
    }
    else if (e.action == "clear-crypto-session" && n->role == "group-member")
    {
        what << "clear crypto gdoi: " << st->GdoiReregister() << " groups register again";
    }
    else if (e.action == "clear-crypto-session")
    {
        what << "cleared " << (e.hasPeer ? st->ClearIkeSas(e.peer) : st->ClearIkeSas()) << " IKE SAs";
    }
    else if (e.sa == "child")
    {
        // with a peer: that peer's pairs only, a DMVPN peer's own among them
        what << "rekeying " << (e.hasPeer ? st->RekeyChildSas(e.peer) : st->RekeyChildSas()) << " CHILD_SAs";
    }
    else if (e.sa == "ike")
    {
        what << "rekeying " << (e.hasPeer ? st->RekeyIkeSas(e.peer) : st->RekeyIkeSas()) << " IKE SAs";
    }
    else
    {
        what << "crypto gdoi ks rekey" << (e.sa == "kek" ? " (new KEK)" : "") << ": "
             << n->gdoi->Rekey(0, e.sa == "kek");
    }
    LogEvent(log, e, what.str());
}

/**
 * Installs flow \p f's source on \p from, sending to \p dst from now on:
 * from its start (or now, if later) to its stop. At build time for most
 * flows; when a client has its address for a client's flows.
 */
void
InstallSource(FlowSpec* f, Ptr<Node> from, Ipv4Address dst)
{
    double now = Simulator::Now().GetSeconds();
    if (f->stop <= now)
    {
        return;
    }
    f->startedAt = now;
    // (relative to now: an application added now is initialised now)
    Time start = Seconds(std::max(0.0, f->start - now));
    Time stop = Seconds(f->stop - now);
    if (f->profile == "bulk-tcp")
    {
        BulkSendHelper bulk("ns3::TcpSocketFactory", Address());
        InetSocketAddress remote =
            vpncompat::AppWithTos(bulk, InetSocketAddress(dst, f->port), static_cast<uint8_t>(f->dscp << 2));
        bulk.SetAttribute("Remote", AddressValue(remote));
        bulk.SetAttribute("MaxBytes", UintegerValue(0));
        ApplicationContainer c = bulk.Install(from);
        c.Start(start);
        c.Stop(stop);
        return;
    }
    Ptr<QosRtpSource> s = CreateObject<QosRtpSource>();
    s->SetAttribute("Remote", AddressValue(InetSocketAddress(dst, 16384)));
    s->SetAttribute("Dscp", UintegerValue(f->dscp));
    s->SetAttribute("FlowId", UintegerValue(f->id));
    if (f->profile == "voice-g711")
    {
        s->SetAttribute("PayloadSize", UintegerValue(160));
        s->SetAttribute("PayloadType", UintegerValue(0));
    }
    else if (f->profile == "voice-g729")
    {
        s->SetAttribute("PayloadSize", UintegerValue(20));
        s->SetAttribute("PayloadType", UintegerValue(18));
    }
    else
    {
        s->SetAttribute("PayloadType", UintegerValue(96));
        s->SetAttribute("VideoFrameRate", DoubleValue(30));
        s->SetAttribute("VideoFrameBytes", UintegerValue(1800));
    }
    s->AssignStreams(100 + f->id);
    from->AddApplication(s);
    s->SetStartTime(start);
    s->SetStopTime(stop);
    f->rtp = s;
}

/** A remote-access client and the flows that wait for its address:
 *  (flow, sender, receiver; nullptr: the client receives). */
struct ClientHook
{
    NodeSpec* client{nullptr};
    std::vector<std::tuple<FlowSpec*, Ptr<Node>, NodeSpec*>> flows;
};

/**
 * The client's daemon put the hub's address on its tunnel (RFC 7296
 * 3.15.1, Ikev2Daemon's AddressAssigned): the first time, its flows start,
 * from that address (the route into the tunnel picks it) or to it.
 */
void
OnClientAddress(ClientHook* h, uint32_t, Ipv4Address a, const std::string& what)
{
    if (what != "assigned" || h->client->assignedAt >= Seconds(0))
    {
        return;
    }
    h->client->assigned = a;
    h->client->assignedAt = Simulator::Now();
    for (auto& fl : h->flows)
    {
        NodeSpec* to = std::get<2>(fl);
        InstallSource(std::get<0>(fl), std::get<1>(fl), to ? to->firstAddress : a);
    }
}

std::string
Lower(std::string s)
{
    for (char& c : s)
    {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

/**
 * Builds the network in memory and checks every router configuration
 * against it. Throws ScenarioError; writes nothing.
 */
void
Build(Scenario& sc, MplsProviderHelper& mpls, GetVpnHelper& getvpn)
{
    mpls.SetPhp(sc.php);
    mpls.SetTtlMode(sc.ttl == "pipe" ? MplsRouter::TTL_PIPE : MplsRouter::TTL_UNIFORM);
    mpls.SetCoreMtu(static_cast<uint16_t>(sc.coreMtu));
    mpls.SetLoopbackBase(Ipv4Address(sc.loopbacks.c_str()));
    mpls.SetCoreNetworkBase(Ipv4Address(sc.coreNetwork.c_str()));
    InternetStackHelper stack;
    for (NodeSpec& n : sc.nodes)
    {
        if (sc.mpls && IsProviderRole(n.role))
        {
            n.node = n.role == "pe" ? mpls.AddPe(n.name) : mpls.AddP(n.name);
        }
        else
        {
            n.node = CreateObject<Node>();
            stack.Install(n.node);
            Names::Add(n.name, n.node);
        }
    }
    for (LinkSpec& l : sc.links)
    {
        NodeSpec* a = sc.FindNode(l.ends[0]);
        NodeSpec* b = sc.FindNode(l.ends[1]);
        if (l.provider)
        {
            if (IsProviderRole(a->role) && IsProviderRole(b->role))
            {
                // its two devices get the error models below (link events);
                // the labels' paths are computed once (Install): no reroute
                mpls.AddCoreLink(a->node, b->node, DataRate(l.rate), Time(l.delay));
                auto core = mpls.GetCoreDevices().back();
                l.devs.Add(core.first);
                l.devs.Add(core.second);
                l.core = true;
            }
            else
            {
                NodeSpec* pe = IsProviderRole(a->role) ? a : b;
                NodeSpec* ce = pe == a ? b : a;
                size_t ci = pe == a ? 1 : 0;
                Ipv4Address net;
                uint8_t len = 0;
                ParsePrefix(l.addresses[ci], net, len);
                net = Ipv4Address(net.Get() & ~3u);
                uint32_t site = mpls.AttachSite(pe->node, l.vrf, ce->node, net, l.prefixes, DataRate(l.rate),
                                                Time(l.delay));
                l.site = site;
                l.devs.Add(pe == a ? mpls.GetPeDevice(site) : mpls.GetCeDevice(site));
                l.devs.Add(pe == a ? mpls.GetCeDevice(site) : mpls.GetPeDevice(site));
            }
        }
        else if (l.type == "p2p")
        {
            PointToPointHelper p2p;
            p2p.SetDeviceAttribute("DataRate", StringValue(l.rate));
            p2p.SetDeviceAttribute("Mtu", UintegerValue(l.mtu));
            p2p.SetChannelAttribute("Delay", StringValue(l.delay));
            p2p.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue(l.queue));
            l.devs = p2p.Install(a->node, b->node);
        }
        else
        {
            CsmaHelper csma;
            csma.SetChannelAttribute("DataRate", StringValue(l.rate));
            csma.SetChannelAttribute("Delay", StringValue(l.delay));
            csma.SetDeviceAttribute("Mtu", UintegerValue(l.mtu));
            csma.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue(l.queue));
            NodeContainer nc;
            for (const std::string& e : l.ends)
            {
                nc.Add(sc.FindNode(e)->node);
            }
            l.devs = csma.Install(nc);
        }
        for (size_t i = 0; i < l.ends.size(); i++)
        {
            NodeSpec* n = sc.FindNode(l.ends[i]);
            Ptr<NetDevice> dev = l.devs.Get(i);
            // loss and link-down events: a receive error model on every end
            Ptr<RateErrorModel> em = CreateObject<RateErrorModel>();
            em->SetUnit(RateErrorModel::ERROR_UNIT_PACKET);
            em->SetRate(l.loss);
            dev->SetAttribute("ReceiveErrorModel", PointerValue(em));
            l.errors.push_back(em);
            if (l.interfaces[i] != "-")
            {
                n->ifaces[l.interfaces[i]] = dev;
            }
            if (l.provider || l.addresses[i] == "-")
            {
                continue;
            }
            Ipv4Address addr;
            uint8_t len = 0;
            ParsePrefix(l.addresses[i], addr, len);
            Ptr<Ipv4> ipv4 = n->node->GetObject<Ipv4>();
            int32_t ifc = ipv4->GetInterfaceForDevice(dev);
            if (ifc < 0)
            {
                ifc = ipv4->AddInterface(dev);
            }
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(addr, MaskOf(len)));
            ipv4->SetMetric(ifc, 1);
            ipv4->SetUp(ifc);
        }
    }
    for (const MrouteSpec& m : sc.mroutes)
    {
        if (m.vrf.empty())
        {
            continue;
        }
        std::vector<uint32_t> sites;
        for (const std::string& o : m.out)
        {
            sites.push_back(sc.FindLink(o)->site);
        }
        mpls.AddMulticastRoute(m.vrf, MplsProviderHelper::Prefix(m.group, m.groupLen), sites,
                               MplsProviderHelper::Prefix(m.source, m.sourceLen));
    }
    if (sc.mpls && mpls.GetPes().GetN() > 0)
    {
        mpls.Install();
    }
    Ipv4StaticRoutingHelper routing;
    for (NodeSpec& n : sc.nodes)
    {
        if (n.hasGateway)
        {
            routing.GetStaticRouting(n.node->GetObject<Ipv4>())->SetDefaultRoute(n.gateway, 1);
        }
    }

    // Global routing sees the physical topology only: computed before the
    // tunnel devices exist (ns-3's GlobalRouter needs a channel on every
    // point-to-point device).
    if (sc.routing == "global")
    {
        Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    }

    // Configurations: every FlexVPN router checked before anything is
    // installed; GET VPN's helper checks and installs in one step and
    // leaves a refused node untouched.
    FlexVpnHelper flex;
    for (NodeSpec& n : sc.nodes)
    {
        if (IsIkeRole(n.role))
        {
            uint32_t line = 0;
            std::string bad = flex.Check(n.node, n.configText, line);
            if (!bad.empty())
            {
                throw ScenarioError(FlexVpnHelper::FormatError(n.configPath, line, bad));
            }
        }
    }
    for (NodeSpec& n : sc.nodes)
    {
        if (IsGetVpnRole(n.role))
        {
            std::string bad = getvpn.Install(n.node, n.configText, n.ifaces);
            if (!bad.empty())
            {
                throw ScenarioError(FileLine(n, bad));
            }
            n.gdoi = getvpn.GetDaemon(n.node);
            n.gdoi->SetStartTime(Seconds(n.start));
        }
    }
    // A client joins at start + U(0, join-spread) (RngRun draws another
    // time), as the example's users do; routers at start.
    Ptr<UniformRandomVariable> join = CreateObject<UniformRandomVariable>();
    join->SetStream(900);
    for (NodeSpec& n : sc.nodes)
    {
        if (IsIkeRole(n.role))
        {
            n.ike = flex.Install(n.node, n.configText, n.initiate);
            n.joinAt = Seconds(n.start + (n.joinSpread > 0 ? join->GetValue(0, n.joinSpread) : 0));
            n.ike->SetStartTime(n.joinAt);
        }
    }
    // Manually keyed tunnels: the devices and their routes now, the SAs once
    // the key export is on (RunScenario)
    for (TunnelSpec& t : sc.tunnels)
    {
        for (int i = 0; i < 2; i++)
        {
            Ptr<Node> node = sc.FindNode(t.ends[i])->node;
            Ptr<VpnTunnelNetDevice> tun = CreateObject<VpnTunnelNetDevice>();
            tun->SetAttribute("Mode", StringValue(t.mode == "vti" ? "Vti" : "GreIpsec"));
            tun->SetAttribute("TunnelSource", Ipv4AddressValue(t.wan[i]));
            tun->SetAttribute("TunnelDestination", Ipv4AddressValue(t.wan[1 - i]));
            tun->SetAttribute("Mtu", UintegerValue(1400)); // IOS's usual `ip mtu 1400`
            node->AddDevice(tun);
            Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
            int32_t ifc = ipv4->AddInterface(tun);
            ipv4->AddAddress(ifc, Ipv4InterfaceAddress(t.addr[i], MaskOf(t.len[i])));
            ipv4->SetUp(ifc);
            if (t.hasRoute[i])
            {
                Ipv4StaticRoutingHelper srh;
                srh.GetStaticRouting(ipv4)->AddNetworkRouteTo(t.route[i], MaskOf(t.routeLen[i]),
                                                             static_cast<uint32_t>(ifc));
            }
            t.dev[i] = tun;
        }
    }
    // Static multicast routes on nodes, once the crypto maps exist (a GET VPN
    // member's WAN is its crypto-map interface: the group goes out encrypted)
    for (const MrouteSpec& m : sc.mroutes)
    {
        if (m.node.empty())
        {
            continue;
        }
        NodeSpec* n = sc.FindNode(m.node);
        Ptr<Ipv4> ipv4 = n->node->GetObject<Ipv4>();
        std::vector<uint32_t> ifs;
        std::vector<std::string> links = m.out;
        links.insert(links.begin(), m.in);
        for (const std::string& name : links)
        {
            LinkSpec* l = sc.FindLink(name);
            size_t i = std::find(l->ends.begin(), l->ends.end(), m.node) - l->ends.begin();
            Ptr<NetDevice> dev = i < l->devs.GetN() ? l->devs.Get(i) : nullptr;
            Ptr<VpnCryptoMapNetDevice> cm = getvpn.GetCryptoMap(n->node);
            // (the crypto map's interface first: the device under it may keep one, unused)
            int32_t ifc = cm && dev && cm->GetInnerDevice() == dev ? ipv4->GetInterfaceForDevice(cm) : -1;
            if (ifc < 0 && dev)
            {
                ifc = ipv4->GetInterfaceForDevice(dev);
            }
            if (ifc < 0)
            {
                throw ScenarioError(m.where + "link " + name + " has no IPv4 interface on " + m.node);
            }
            ifs.push_back(static_cast<uint32_t>(ifc));
        }
        Ipv4StaticRoutingHelper srh;
        srh.GetStaticRouting(ipv4)->AddMulticastRoute(m.source, m.group, ifs[0],
                                                     std::vector<uint32_t>(ifs.begin() + 1, ifs.end()));
    }
}

int
RunScenario(Scenario& sc, const std::string& out, bool check, const std::string& progress)
{
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
    MplsProviderHelper mpls;
    GetVpnHelper getvpn;
    Build(sc, mpls, getvpn);
    if (check)
    {
        std::cout << Dump(sc);
        Simulator::Destroy();
        return 0;
    }

    // From here on the output folder is written.
    VpnTraceHelper trace(out);
    NodeContainer ikeNodes;
    std::vector<Ptr<Ikev2Daemon>> ikes;
    std::vector<Ptr<GdoiDaemon>> gdois;
    for (NodeSpec& n : sc.nodes)
    {
        if (n.ike)
        {
            ikeNodes.Add(n.node);
            ikes.push_back(n.ike);
        }
        if (n.gdoi)
        {
            gdois.push_back(n.gdoi);
        }
        if (!n.configText.empty())
        {
            std::ofstream(out + "/" + n.name + ".cfg") << n.configText;
        }
    }
    NodeContainer keyNodes = ikeNodes;
    for (TunnelSpec& t : sc.tunnels)
    {
        keyNodes.Add(sc.FindNode(t.ends[0])->node);
        keyNodes.Add(sc.FindNode(t.ends[1])->node);
    }
    if (keyNodes.GetN())
    {
        trace.EnableKeyExport(keyNodes);
    }
    for (TunnelSpec& t : sc.tunnels)
    {
        VpnManualKeyHelper keys;
        keys.SetTransform(t.transform); // checked in Parse
        keys.Install(t.dev[0], t.dev[1]);
    }
    if (!gdois.empty())
    {
        trace.EnableGetVpnKeyExport(gdois);
    }

    // Traffic. A flow with a client at one end waits for the client's
    // address from the hub (OnClientAddress); the others start as given.
    NodeContainer hosts;
    uint32_t nextFlow = 1;
    std::map<std::string, Ptr<QosFlowSink>> sinks;
    std::map<std::string, ClientHook> clients;
    uint16_t tcpPort = 5001;
    for (FlowSpec& f : sc.flows)
    {
        NodeSpec* from = sc.FindNode(f.from);
        NodeSpec* to = sc.FindNode(f.to);
        hosts.Add(from->node);
        for (const std::string& r : f.receivers)
        {
            hosts.Add(sc.FindNode(r)->node);
        }
        if (f.profile == "bulk-tcp")
        {
            f.port = tcpPort++;
            PacketSinkHelper sinkHelper("ns3::TcpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), f.port));
            ApplicationContainer sinkApp = sinkHelper.Install(to->node);
            f.tcpSink = DynamicCast<PacketSink>(sinkApp.Get(0));
        }
        else
        {
            for (const std::string& r : f.receivers)
            {
                Ptr<QosFlowSink>& sink = sinks[r];
                if (!sink)
                {
                    sink = CreateObject<QosFlowSink>();
                    sink->SetAttribute("Port", UintegerValue(16384));
                    sc.FindNode(r)->node->AddApplication(sink);
                    sink->SetStartTime(Seconds(0));
                }
            }
            f.sink = sinks[f.to];
            f.id = nextFlow++;
        }
        NodeSpec* client = from->role == "client" ? from : to->role == "client" ? to : nullptr;
        if (client)
        {
            ClientHook& h = clients[client->name];
            h.client = client;
            h.flows.emplace_back(&f, from->node, to == client ? nullptr : to);
            continue;
        }
        InstallSource(&f, from->node, f.multicast ? f.group : to->firstAddress);
    }
    for (NodeSpec& n : sc.nodes)
    {
        if (n.role == "client")
        {
            ClientHook& h = clients[n.name];
            h.client = &n;
            n.ike->TraceConnectWithoutContext("AddressAssigned", MakeBoundCallback(&OnClientAddress, &h));
        }
    }
    for (NodeSpec& n : sc.nodes)
    {
        if (!clients.empty() && n.role == "router")
        {
            hosts.Add(n.node); // the hub: the clients' IKE flows counted where they arrive (as the example)
        }
    }

    // Timed events at their simulated time; each logged in events.txt with
    // the node's SA counts, and the counts sampled every 100 ms into
    // sa-counts.csv (so a clear or a restart shows as a drop and a return).
    auto log = std::make_shared<std::ofstream>(out + "/events.txt");
    VpnTrackedEvents events; // this run's own events, cancelled after it
    for (const EventSpec& e : sc.events)
    {
        Time at = Seconds(e.at);
        if (e.action == "link-down")
        {
            events.Add(Simulator::Schedule(at, &SetLinkLoss, sc.FindLink(e.target), 1.0));
            events.Add(Simulator::Schedule(at, &LogEvent, log, e, std::string("loss 1")));
        }
        else if (e.action == "link-up")
        {
            LinkSpec* l = sc.FindLink(e.target);
            events.Add(Simulator::Schedule(at, &SetLinkLoss, l, l->loss));
            events.Add(Simulator::Schedule(at, &LogEvent, log, e, "loss " + Num(l->loss)));
        }
        else
        {
            events.Add(Simulator::Schedule(at, &NodeEvent, log, e, sc.FindNode(e.target)));
        }
    }
    std::vector<NodeSpec*> counted;
    for (NodeSpec& n : sc.nodes)
    {
        if (n.ike || (n.gdoi && n.role == "group-member"))
        {
            counted.push_back(&n);
        }
    }
    if (!counted.empty())
    {
        auto csv = std::make_shared<std::ofstream>(out + "/sa-counts.csv");
        *csv << "time_s";
        for (NodeSpec* n : counted)
        {
            if (n->gdoi)
            {
                // a group member: its registered groups and TEKs
                *csv << ",gdoi_groups_" << Lower(n->name) << ",teks_" << Lower(n->name);
                continue;
            }
            *csv << ",ike_sas_" << Lower(n->name) << ",esp_sas_" << Lower(n->name);
        }
        *csv << "\n";
        events.Add(Simulator::Schedule(Seconds(0), &SampleSaCounts, csv, counted, Seconds(sc.duration + 1), &events));
    }

    // Captures: one per link (its first end), one per tunnel interface
    bool all = sc.pcap == "all";
    std::set<std::string> wanted;
    for (const std::string& p : Words(sc.pcap))
    {
        wanted.insert(p);
    }
    for (LinkSpec& l : sc.links)
    {
        if (!all && !wanted.count(l.name))
        {
            continue;
        }
        if (l.core)
        {
            continue; // core links: MplsProviderHelper::EnablePcap below
        }
        if (l.type == "p2p" || l.provider)
        {
            PointToPointHelper p2p;
            p2p.EnablePcap(out + "/" + l.name, l.devs.Get(0), true);
        }
        else
        {
            CsmaHelper csma;
            csma.EnablePcap(out + "/" + l.name, l.devs.Get(0), true);
        }
    }
    if (sc.mpls && all && mpls.GetPes().GetN())
    {
        mpls.EnablePcap(out, false);
    }
    for (NodeSpec& n : sc.nodes)
    {
        if (!n.ike || sc.pcap == "none")
        {
            continue;
        }
        for (uint32_t i = 0; i < n.node->GetNDevices(); i++)
        {
            Ptr<VpnTunnelNetDevice> t = DynamicCast<VpnTunnelNetDevice>(n.node->GetDevice(i));
            if (t)
            {
                trace.EnableTunnelPcap(Lower(t->GetInterfaceName() + "-" + n.name), t);
            }
        }
    }

    for (TunnelSpec& t : sc.tunnels)
    {
        if (sc.pcap != "none")
        {
            trace.EnableTunnelPcap(Lower(t.name + "-" + t.ends[0]), t.dev[0]);
        }
    }
    Time end = Seconds(sc.duration);
    Time last = end + Seconds(1) - MilliSeconds(1);
    for (NodeSpec& n : sc.nodes)
    {
        if (n.ike)
        {
            trace.ScheduleShowSnapshot(n.ike, "show-" + n.name + ".txt", last);
        }
        if (n.gdoi)
        {
            trace.ScheduleShowSnapshot(n.gdoi, "show-" + n.name + ".txt", last);
        }
        if (n.node->GetObject<Ipv4>() && n.role != "host")
        {
            events.Add(Simulator::Schedule(last, &PrintRoutes, n.node, out + "/routes-" + n.name + ".txt"));
        }
    }
    FlowMonitorHelper flowHelper;
    Ptr<FlowMonitor> monitor = hosts.GetN() ? flowHelper.Install(hosts) : nullptr;
    if (!progress.empty())
    {
        events.Add(Simulator::Schedule(Seconds(0), &Progress, progress, &events));
    }
    // One more second for the packets still in flight when the sources stop.
    Simulator::Stop(end + Seconds(1));
    Simulator::Run();
    events.CancelAll(); // Progress reschedules itself past the stop

    VpnReport report(sc.title.empty() ? sc.name : sc.title, sc.budget);
    report.Add("scenario", sc.dir);
    for (NodeSpec& n : sc.nodes)
    {
        std::string k = Lower(n.name);
        if (n.ike)
        {
            report.Add("ike_sas_up_" + k, n.ike->GetIkeSasUp());
            report.Add("child_sas_" + k, n.ike->GetChildSasInstalled());
            uint64_t enc = 0, dec = 0, drop = 0;
            for (uint32_t i = 0; i < n.node->GetNDevices(); i++)
            {
                if (Ptr<VpnTunnelNetDevice> t = DynamicCast<VpnTunnelNetDevice>(n.node->GetDevice(i)))
                {
                    enc += t->GetPacketsEncrypted();
                    dec += t->GetPacketsDecrypted();
                    drop += t->GetPacketsDropped();
                }
            }
            report.Add("encrypted_" + k, enc);
            report.Add("decrypted_" + k, dec);
            report.Add("tunnel_drops_" + k, drop);
        }
        if (n.role == "client")
        {
            // remote access: connected (the hub's address on its tunnel), when
            // it joined, how long it took, the address
            bool up = n.assignedAt >= Seconds(0);
            report.Add("ra_connected_" + k, up ? 1 : 0);
            report.AddFigure("ra_join_s_" + k, n.joinAt.GetSeconds());
            if (up)
            {
                report.AddFigure("ra_connect_ms_" + k, (n.assignedAt - n.joinAt).GetSeconds() * 1000);
                std::ostringstream a;
                a << n.assigned;
                report.Add("ra_address_" + k, a.str());
            }
        }
        if (n.gdoi && n.role == "group-member")
        {
            // (no core while switched off at the end: a stopped router has no state)
            static const vpn_getvpn_stats none{};
            const vpn_getvpn_stats* st = n.gdoi->GetCore() ? vpn_getvpn_node_get_stats(n.gdoi->GetCore()) : &none;
            uint64_t drops = 0;
            for (int r = 0; r < VPN_GETVPN_DROP_COUNT; r++)
            {
                drops += st->drops[r];
            }
            report.Add("gdoi_registered_groups_" + k, n.gdoi->GetRegisteredGroups());
            // rekeys the member accepted (unicast or multicast), every group
            uint64_t rekeys = 0;
            for (size_t g = 0; g < vpn_getvpn_node_n_groups(n.gdoi->GetCore()); g++)
            {
                const vpn_gdoi_gm* gm = vpn_getvpn_node_gm(n.gdoi->GetCore(), g);
                rekeys += gm ? vpn_gdoi_gm_get_stats(gm)->rekeys : 0;
            }
            report.Add("gdoi_rekeys_received_" + k, rekeys);
            report.Add("encrypted_" + k, st->out_encrypted);
            report.Add("decrypted_" + k, st->in_decrypted);
            report.Add("data_plane_drops_" + k, drops);
        }
        if (n.gdoi && n.role == "key-server")
        {
            const vpn_gdoi_ks* ks = vpn_getvpn_node_ks(n.gdoi->GetCore(), 0);
            report.Add("ks_members_" + k, ks ? static_cast<uint64_t>(vpn_gdoi_ks_members(ks)) : 0);
            report.Add("ks_rekeys_" + k, ks ? vpn_gdoi_ks_get_stats(ks)->rekeys : 0);
            report.Add("ks_registrations_" + k, ks ? vpn_gdoi_ks_get_stats(ks)->registrations : 0);
            // cooperative key servers: who is primary at the end, takeovers counted
            report.Add("ks_primary_" + k, ks && vpn_gdoi_ks_coop_role(ks) == VPN_GDOI_COOP_PRIMARY ? 1 : 0);
            // (no coop statistics for a key server without `redundancy`)
            const vpn_gdoi_coop_stats* cs = ks ? vpn_gdoi_ks_coop_stats(ks) : nullptr;
            report.Add("ks_takeovers_" + k, cs ? cs->takeovers : 0);
        }
    }
    for (TunnelSpec& t : sc.tunnels)
    {
        for (int i = 0; i < 2; i++)
        {
            std::string k = Lower(t.name + "_" + t.ends[i]);
            Ptr<VpnIpsecStack> st = sc.FindNode(t.ends[i])->node->GetObject<VpnIpsecStack>();
            report.Add("tunnel_sas_" + k, st ? st->GetSaCount() : 0);
            report.Add("tunnel_encrypted_" + k, t.dev[i]->GetPacketsEncrypted());
            report.Add("tunnel_decrypted_" + k, t.dev[i]->GetPacketsDecrypted());
            report.Add("tunnel_dropped_" + k, t.dev[i]->GetPacketsDropped());
            report.Add("tunnel_esp_errors_" + k, st ? st->GetSaErrors() : 0);
        }
    }
    size_t ikeLines = ikes.empty() ? 0 : trace.WriteIkeKeys(ikes);
    size_t ikev1Lines = gdois.empty() ? 0 : trace.WriteIkev1Keys(gdois);
    report.Add("wireshark_esp_sa_lines", trace.GetKeyLinesWritten());
    report.Add("wireshark_ikev2_lines", static_cast<uint64_t>(ikeLines));
    report.Add("wireshark_ikev1_lines", static_cast<uint64_t>(ikev1Lines));
    bool qos = false;
    for (FlowSpec& f : sc.flows)
    {
        std::string k = "flow_" + Lower(f.name);
        if (f.tcpSink)
        {
            double secs = f.stop - std::max(f.start, f.startedAt);
            report.Add(k + "_bytes", f.tcpSink->GetTotalRx());
            report.AddFigure(k + "_goodput_mbps", f.tcpSink->GetTotalRx() * 8.0 / secs / 1e6);
            continue;
        }
        std::string cls = f.dscp == 46 ? "EF" : f.dscp == 34 ? "AF41" : "BE";
        std::string codec = f.profile == "voice-g711" ? "G.711" : f.profile == "voice-g729" ? "G.729" : "";
        uint64_t sent = f.rtp ? f.rtp->GetSent() : 0; // (a client's that never connected: none)
        report.Add(k + "_sent", sent);
        // a multicast flow: its figures per receiver (flow_F_R_received, ...)
        for (const std::string& r : f.receivers)
        {
            std::string kr = f.multicast ? k + "_" + Lower(r) : k;
            Ptr<QosFlowSink> sink = sinks[r];
            vpn_qos_summary sum{};
            sink->GetSummary(f.id, sent, sum);
            report.AddQosFlow(sc.name, f.multicast ? f.name + "@" + r : f.name, cls, codec, sum,
                              sink->GetDelaysMs(f.id));
            report.Add(kr + "_received", sum.received);
            report.AddFigure(kr + "_loss_pct", sum.loss * 100);
            report.AddFigure(kr + "_p50_ms", sum.p50_ns / 1e6);
            report.AddFigure(kr + "_p99_ms", sum.p99_ns / 1e6);
            report.AddFigure(kr + "_jitter_ms", sum.jitter_ns / 1e6);
        }
        qos = true;
    }
    if (monitor)
    {
        report.AddFlows(flowHelper, monitor);
    }
    if (sc.mpls && mpls.GetPes().GetN())
    {
        mpls.WriteShow(out);
    }
    std::cout << report.Write(out);
    if (qos)
    {
        report.WriteCsv(out);
        report.WritePlots(out);
    }
    Simulator::Destroy();
    return 0;
}

} // namespace

int
main(int argc, char* argv[])
{
    std::string path;
    std::string out;
    std::vector<std::string> sets;
    bool check = false;
    std::string progress;
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; i++)
    {
        std::string a = argv[i];
        if (a == "--set" && i + 1 < argc)
        {
            sets.push_back(argv[++i]);
        }
        else if (a.rfind("--set=", 0) == 0)
        {
            sets.push_back(a.substr(6));
        }
        else if (a == "--out" && i + 1 < argc)
        {
            out = argv[++i];
        }
        else if (a.rfind("--out=", 0) == 0)
        {
            out = a.substr(6);
        }
        else if (a.rfind("--progress=", 0) == 0)
        {
            progress = a.substr(11);
        }
        else if (a == "--check")
        {
            check = true;
        }
        else if (a[0] != '-' && path.empty())
        {
            path = a;
        }
        else
        {
            rest.push_back(argv[i]);
        }
    }
    CommandLine cmd(__FILE__);
    cmd.Usage("vpn-scenario SCENARIO_DIR|FILE.ini [--out=DIR] [--set SECTION.NAME.KEY=VALUE ...] [--check]");
    cmd.Parse(static_cast<int>(rest.size()), rest.data());
    if (!VpnMpi::SerialOnly("vpn-scenario"))
    {
        return 2;
    }
    if (path.empty())
    {
        std::cerr << "usage: vpn-scenario SCENARIO_DIR|FILE.ini [--out=DIR] [--set KEY=VALUE ...] [--check]\n";
        return 2;
    }
    struct stat st{};
    std::string ini = path;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    {
        ini = path + "/scenario.ini";
    }
    Scenario sc;
    sc.dir = ini.substr(0, ini.find_last_of('/') == std::string::npos ? 0 : ini.find_last_of('/'));
    if (sc.dir.empty())
    {
        sc.dir = ".";
    }
    std::string base = sc.dir.substr(sc.dir.find_last_of('/') + 1);
    sc.title = base;
    sc.name = base;
    if (out.empty())
    {
        out = "out/" + base;
    }
    try
    {
        ScenarioFile f;
        f.Load(ini);
        for (const std::string& s : sets)
        {
            f.Set(s);
        }
        Parse(f, sc);
        return RunScenario(sc, out, check, progress);
    }
    catch (const ScenarioError& e)
    {
        std::cerr << e.what() << "\n";
        Simulator::Destroy();
        return 2;
    }
}
