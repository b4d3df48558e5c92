// A small rtnetlink client on libmnl: just the link, address and route operations the built-in
// pod network needs. A socket acts in the network namespace of the thread that opened it, so
// work inside a pod's namespace opens its own Netlink inside RunInNamespace's thread.
// Every failure is a berth::Error naming the operation, the object and the kernel's errno.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/builtin/ip_address.h"

struct mnl_socket;
struct nlmsghdr;

namespace berth::cni {

using MacAddress = std::array<uint8_t, 6>;

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;    // IFLA_INFO_KIND: "bridge", "veth", ... (empty for physical devices)
  unsigned flags = 0;  // IFF_UP, ...
  uint32_t mtu = 0;
  int master_index = 0;  // 0 when not enslaved
};

struct AddressInfo {
  int link_index = 0;
  IpAddress address;
  int prefix_length = 0;
};

struct Route {
  Cidr destination;  // 0.0.0.0/0 or ::/0 for a default route
  IpAddress gateway;
  int link_index = 0;  // RTA_OIF
};

class Netlink {
 public:
  // Opens and binds an rtnetlink socket in the calling thread's network namespace.
  static Result<Netlink> Open();
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  ~Netlink();

  // NotFound when there is no such link.
  Result<LinkInfo> GetLink(const std::string& name);
  Result<int> LinkIndex(const std::string& name);
  // Every link of this network namespace.
  Result<std::vector<LinkInfo>> ListLinks();

  // AlreadyExists when a link of that name exists. A fixed MAC stops the bridge from taking the
  // lowest MAC of its ports, which would change the gateway's MAC (and break pods' ARP caches)
  // whenever that port leaves.
  Result<void> CreateBridge(const std::string& name, const MacAddress& mac);
  // Creates `name` here and its peer `peer_name` directly inside the network namespace open at
  // `peer_netns_fd` (IFLA_NET_NS_FD), so the peer's name is checked there, never here; -1 keeps
  // the peer in this namespace. AlreadyExists when either name is taken.
  Result<void> CreateVethPair(const std::string& name, const std::string& peer_name,
                              int peer_netns_fd);
  Result<void> SetMaster(int link_index, int master_index);
  Result<void> SetUp(int link_index, bool up);
  Result<void> SetMtu(int link_index, uint32_t mtu);
  // The link must be down.
  Result<void> Rename(int link_index, const std::string& new_name);
  // IPv6 addresses skip duplicate address detection (IFA_F_NODAD): addresses come from our own
  // IPAM, and a tentative address could not be bound or used as a source for about a second.
  // AlreadyExists when the link has that address.
  Result<void> AddAddress(int link_index, const IpAddress& address, int prefix_length);
  // AlreadyExists when the route exists.
  Result<void> AddRoute(const Route& route);
  // Deleting an absent link is fine. Deleting one end of a veth pair deletes both.
  Result<void> DeleteLink(const std::string& name);
  // Addresses of one link, or of every link when `link_index` is 0.
  Result<std::vector<AddressInfo>> ListAddresses(int link_index = 0);

 private:
  using Callback = std::function<void(const nlmsghdr*)>;
  Netlink(mnl_socket* socket, unsigned port_id);
  // Sends a request with NLM_F_ACK and reads until the kernel's ack (or the end of a dump),
  // passing every data message to `on_message`. Returns the kernel's errno as an error.
  Result<void> Transact(nlmsghdr* request, const std::string& what,
                        const Callback& on_message = nullptr);
  Result<void> ModifyLink(int link_index, const std::string& what,
                          const std::function<void(nlmsghdr*)>& add_attributes, unsigned change = 0,
                          unsigned flags = 0);

  mnl_socket* socket_ = nullptr;
  unsigned port_id_ = 0;
  unsigned sequence_ = 0;
  std::vector<char> receive_buffer_;
};

}  // namespace berth::cni
