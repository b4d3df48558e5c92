// Host-local IPAM over a temporary metadata store: order, limits, persistence, concurrency.
#include "cni/builtin/ipam.h"

#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include "gtest/gtest.h"

namespace berth::cni {
namespace {

Cidr Block(const char* text) {
  return *Cidr::Parse(text);
}

std::string PodId(int n) {
  char id[65];
  snprintf(id, sizeof id, "%064x", n);
  return id;
}

class IpamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-ipam-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    store_ = *MetadataStore::Open(dir_ + "/metadata.db");
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Ipam> Open(const char* v4, std::optional<Cidr> v6 = std::nullopt) {
    auto ipam = Ipam::Open(*store_, Block(v4), v6);
    EXPECT_TRUE(ipam.ok()) << ipam.error().message();
    return std::move(*ipam);
  }

  // The pod's single (IPv4) address as text.
  static std::string AllocateOne(Ipam& ipam, const std::string& pod_id) {
    auto allocations = ipam.Allocate(pod_id);
    EXPECT_TRUE(allocations.ok()) << allocations.error().message();
    if (!allocations.ok() || allocations->empty()) return "";
    return allocations->front().address.ToString();
  }

  std::string dir_;
  std::unique_ptr<MetadataStore> store_;
};

TEST(PodSubnetTest, ValidatesPrefixLengths) {
  EXPECT_TRUE(ValidatePodSubnet(Block("10.88.0.0/16")).ok());
  EXPECT_TRUE(ValidatePodSubnet(Block("10.88.0.0/30")).ok());
  EXPECT_FALSE(ValidatePodSubnet(Block("10.88.0.0/31")).ok());
  EXPECT_FALSE(ValidatePodSubnet(Block("10.0.0.0/7")).ok());
  EXPECT_TRUE(ValidatePodSubnet(Block("fd00:1::/64")).ok());
  EXPECT_FALSE(ValidatePodSubnet(Block("fd00:1::/48")).ok());
  EXPECT_FALSE(ValidatePodSubnet(Block("fd00:1::/127")).ok());
}

TEST(NextFreeOffsetTest, GoesRoundRobinFromTheLastAllocation) {
  Cidr block = Block("10.0.0.0/29");  // pod offsets 2..6
  std::set<uint64_t> taken = {2, 3, 5};
  auto is_taken = [&](uint64_t offset) -> Result<bool> { return taken.count(offset) > 0; };
  EXPECT_EQ(*NextFreeOffset(block, std::nullopt, is_taken), 4u);
  EXPECT_EQ(*NextFreeOffset(block, 4, is_taken), 6u);
  EXPECT_EQ(*NextFreeOffset(block, 6, is_taken), 4u);    // wraps past 2 and 3
  EXPECT_EQ(*NextFreeOffset(block, 100, is_taken), 4u);  // a cursor outside restarts at 2
  taken = {2, 3, 4, 5, 6};
  EXPECT_FALSE(NextFreeOffset(block, 3, is_taken)->has_value());
  auto failing = [](uint64_t) -> Result<bool> { return Internal("store down"); };
  EXPECT_FALSE(NextFreeOffset(block, std::nullopt, failing).ok());
}

TEST_F(IpamTest, HandsOutAddressesInOrderSkippingNetworkGatewayAndBroadcast) {
  auto ipam = Open("10.234.0.0/29");
  std::vector<std::string> got;
  for (int pod = 0; pod < 5; ++pod) got.push_back(AllocateOne(*ipam, PodId(pod)));
  EXPECT_EQ(got, (std::vector<std::string>{"10.234.0.2", "10.234.0.3", "10.234.0.4", "10.234.0.5",
                                           "10.234.0.6"}));
  auto full = ipam->Allocate(PodId(9));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::kResourceExhausted);
  // A freed address comes back only once the round robin reaches it again.
  ASSERT_TRUE(ipam->Release(PodId(1)).ok());
  EXPECT_EQ(AllocateOne(*ipam, PodId(10)), "10.234.0.3");
  auto allocation = ipam->Allocations(PodId(10));
  ASSERT_EQ(allocation->size(), 1u);
  EXPECT_EQ(allocation->front().gateway().ToString(), "10.234.0.1");
  EXPECT_EQ(allocation->front().subnet.ToString(), "10.234.0.0/29");
}

TEST_F(IpamTest, AllocateIsIdempotentAndReleaseFreesEverything) {
  auto ipam = Open("10.234.0.0/24", Block("fd00:234::/64"));
  auto first = ipam->Allocate(PodId(1));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ(first->at(0).address.ToString(), "10.234.0.2");  // IPv4 first
  EXPECT_EQ(first->at(1).address.ToString(), "fd00:234::2");
  EXPECT_EQ(first->at(1).gateway().ToString(), "fd00:234::1");
  auto again = ipam->Allocate(PodId(1));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(again->at(0).address, first->at(0).address);
  EXPECT_EQ(again->at(1).address, first->at(1).address);
  ASSERT_TRUE(ipam->Release(PodId(1)).ok());
  EXPECT_TRUE(ipam->Allocations(PodId(1))->empty());
  EXPECT_TRUE(ipam->Release(PodId(1)).ok());  // idempotent
  EXPECT_TRUE(store_->List(kIpAllocationKind)->empty());
}

TEST_F(IpamTest, ARestartedIpamNeverReusesAnAddress) {
  std::string before;
  {
    auto ipam = Open("10.234.0.0/24");
    AllocateOne(*ipam, PodId(1));
    before = AllocateOne(*ipam, PodId(2));
    ASSERT_TRUE(ipam->Release(PodId(1)).ok());
  }
  store_.reset();
  store_ = *MetadataStore::Open(dir_ + "/metadata.db");
  auto ipam = Open("10.234.0.0/24");
  EXPECT_EQ(ipam->Allocations(PodId(2))->front().address.ToString(), before);
  // The cursor survived too: the next address follows the last one, not the freed .2.
  EXPECT_EQ(AllocateOne(*ipam, PodId(3)), "10.234.0.4");
}

TEST_F(IpamTest, ConcurrentAllocationsFromTwoObjectsAreDistinct) {
  auto first = Open("10.234.0.0/24");
  auto second = Open("10.234.0.0/24");  // another object over the same store
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Ipam& ipam = t % 2 == 0 ? *first : *second;
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(ipam.Allocate(PodId(t * 100 + i)).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto all = first->AllAllocations();
  ASSERT_TRUE(all.ok());
  std::set<IpAddress> distinct;
  for (const auto& allocation : *all) distinct.insert(allocation.address);
  EXPECT_EQ(all->size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(distinct.size(), size_t{kThreads * kPerThread});
}

TEST_F(IpamTest, NewPodCidrServesNewPodsAndOldPodsKeepTheirAddresses) {
  auto ipam = Open("10.234.0.4/30");  // one pod address: .6
  EXPECT_EQ(AllocateOne(*ipam, PodId(1)), "10.234.0.6");
  ASSERT_TRUE(ipam->SetSubnet(Block("10.234.0.0/28")).ok());
  // The old subnet's network, gateway and broadcast (.4, .5, .7) stay out of use.
  std::vector<std::string> got;
  for (int pod = 2; pod < 20; ++pod) {
    auto allocations = ipam->Allocate(PodId(pod));
    if (!allocations.ok()) break;
    got.push_back(allocations->front().address.ToString());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.234.0.2", "10.234.0.3", "10.234.0.8", "10.234.0.9",
                                           "10.234.0.10", "10.234.0.11", "10.234.0.12",
                                           "10.234.0.13", "10.234.0.14"}));
  EXPECT_EQ(ipam->Allocations(PodId(1))->front().subnet.ToString(), "10.234.0.4/30");
  auto in_use = ipam->SubnetsInUse();
  ASSERT_TRUE(in_use.ok());
  EXPECT_EQ(in_use->size(), 2u);
  // Persisted: a new Ipam over the config's subnet still uses the pod CIDR.
  auto reopened = Open("10.234.0.4/30");
  EXPECT_EQ(reopened->subnet_v4().ToString(), "10.234.0.0/28");
}

TEST_F(IpamTest, PodCidrWhoseGatewayIsAPodsAddressIsRefused) {
  auto ipam = Open("10.234.0.0/24");
  for (int pod = 0; pod < 4; ++pod) AllocateOne(*ipam, PodId(pod));  // .2 to .5
  auto refused = ipam->SetSubnet(Block("10.234.0.4/30"));            // gateway .5
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ipam->subnet_v4().ToString(), "10.234.0.0/24");
  EXPECT_FALSE(ipam->SetSubnet(Block("fd00:234::/48")).ok());  // invalid size
  EXPECT_TRUE(ipam->SetSubnet(Block("fd00:234::/64")).ok());   // enables dual stack
  EXPECT_EQ(ipam->Allocate(PodId(9))->size(), 2u);
}

}  // namespace
}  // namespace berth::cni
