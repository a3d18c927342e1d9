// TenantLedger: the effective priority rule of scheduler/fastswitch.
#include <gtest/gtest.h>

#include "tenant_ledger.h"

namespace bricks::fastswitch {
namespace {

TEST(TenantLedger, LessServedTenantsRankHigher) {
  TenantLedger ledger({1.0, 1.0, 100.0});
  ledger.begin_step({0, 1});
  ledger.charge(0, 300);
  ledger.charge(1, 100);
  ledger.begin_step({0, 1});
  EXPECT_DOUBLE_EQ(ledger.least_active_service(), 100.0);
  EXPECT_DOUBLE_EQ(ledger.effective_priority(0, 1), 0.0);
  EXPECT_DOUBLE_EQ(ledger.effective_priority(0, 0), -2.0) << "200 tokens ahead = 2 quanta";
  EXPECT_DOUBLE_EQ(ledger.effective_priority(3, 0), 1.0) << "priority still counts";
}

TEST(TenantLedger, WeightsScaleBothTerms) {
  TenantLedger ledger({2.0, 0.5, 10.0});
  ledger.begin_step({0, 1});
  ledger.charge(0, 40);
  ledger.begin_step({0, 1});
  EXPECT_DOUBLE_EQ(ledger.effective_priority(1, 0), 2.0 - 0.5 * 4.0);
  TenantLedger unfair({1.0, 0.0, 10.0});
  unfair.begin_step({0, 1});
  unfair.charge(0, 1000);
  unfair.begin_step({0, 1});
  EXPECT_DOUBLE_EQ(unfair.effective_priority(0, 0), unfair.effective_priority(0, 1));
}

TEST(TenantLedger, IdleTimeEarnsNoCredit) {
  TenantLedger ledger({1.0, 1.0, 100.0});
  ledger.begin_step({0, 1});
  ledger.charge(0, 50);
  ledger.charge(1, 50);
  ledger.begin_step({0});  // tenant 1 goes idle while tenant 0 is served
  ledger.charge(0, 1000);
  ledger.begin_step({0, 1});
  EXPECT_DOUBLE_EQ(ledger.service(1), 1050.0) << "lifted to the least active service";
  EXPECT_DOUBLE_EQ(ledger.effective_priority(0, 1), ledger.effective_priority(0, 0));
}

TEST(TenantLedger, NoActiveTenantsMeansNoLift) {
  TenantLedger ledger;
  ledger.begin_step({});
  EXPECT_DOUBLE_EQ(ledger.least_active_service(), 0.0);
  ledger.begin_step({4});
  EXPECT_DOUBLE_EQ(ledger.service(4), 0.0);
  EXPECT_DOUBLE_EQ(ledger.effective_priority(2, 4), 2.0);
}

}  // namespace
}  // namespace bricks::fastswitch
