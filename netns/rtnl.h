// A NETLINK_ROUTE handle for one namespace (iproute2's `rth`, vishvananda's
// Handle/NewHandleAt): one socket, opened inside the namespace once, carries
// every link, address and route request made through it. The free functions
// in link.h, address.h and route.h are one-call wrappers that open a handle
// each; code that configures a namespace step by step keeps one handle.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/ip.h"
#include "netns/namespace.h"
#include "netns/netlink.h"
#include "netns/route.h"
#include "netns/rule.h"

namespace netns {

// One entry of a neighbour table (ARP or NDP), as `ip neigh` shows it.
struct Neighbour {
  Ip ip;
  int link_index = 0;
  uint16_t state = 0;  // NUD_* (linux/neighbour.h)
  bool permanent() const;
};

class Rtnl {
 public:
  // Opens the socket inside ns (on a short-lived thread); every call after
  // that runs on the caller's thread and still acts in ns. The socket keeps
  // the namespace alive while the handle lives.
  explicit Rtnl(const Namespace& ns);

  // Links (link.cc). See the free functions of the same names in link.h.
  void create_veth(const std::string& name, const Namespace& peer_ns, const std::string& peer_name);
  void create_bridge(const std::string& name);
  void set_master(const std::string& link, const std::string& bridge);
  void set_up(const std::string& link);
  int link_index(const std::string& link);
  void wait_until_up(const std::vector<std::string>& links,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::vector<std::string> list_links();
  // The link's hardware address (IFLA_ADDRESS), e.g. six bytes for a veth.
  std::vector<uint8_t> link_address(const std::string& link);

  // Neighbours (neighbour.cc). A permanent entry never resolves, expires or
  // counts against the host-wide gc_thresh limits of the neighbour tables.
  void add_permanent_neighbour(const std::string& link, const Ip& ip, const std::vector<uint8_t>& lladdr);
  // Every entry in this namespace's ARP and NDP tables.
  std::vector<Neighbour> list_neighbours();

  // Addresses (address.cc) and routes (route.cc).
  void add_address(const std::string& link, const Cidr& cidr);
  std::vector<Cidr> list_addresses(const std::string& link);
  void add_route(const Route& route);
  void replace_route(const Route& route);

  // Policy routing rules (rule.cc). See the free functions in rule.h.
  std::vector<RoutingRule> list_rules(int family);
  void add_rule(const RoutingRule& rule);
  void delete_rule(const RoutingRule& rule);

  // "namespace net:[4026532001]": where this handle acts, for messages.
  const std::string& label() const { return label_; }

 private:
  int operstate(const std::string& link);
  void put_route(const Route& route, bool replace);

  Netlink nl_;
  std::string label_;
};

}  // namespace netns
