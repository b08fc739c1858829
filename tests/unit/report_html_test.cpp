#include "reports/report_html.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace billing;

TEST(ReportHtmlTest, MoneyHasTwoDecimalsAndGroupedUnits)
{
  EXPECT_EQ(money_text(0), "0.00");
  EXPECT_EQ(money_text(5), "0.05");
  EXPECT_EQ(money_text(-5), "-0.05");
  EXPECT_EQ(money_text(100), "1.00");
  EXPECT_EQ(money_text(123456), "1,234.56");
  EXPECT_EQ(money_text(-100000000), "-1,000,000.00");
  EXPECT_EQ(money_text(std::numeric_limits<long long>::min()), "-92,233,720,368,547,758.08");
}

TEST(ReportHtmlTest, NumbersAreGroupedByThousands)
{
  EXPECT_EQ(grouped_number(0), "0");
  EXPECT_EQ(grouped_number(999), "999");
  EXPECT_EQ(grouped_number(1000), "1,000");
  EXPECT_EQ(grouped_number(1234567), "1,234,567");
  EXPECT_EQ(grouped_number(-1234), "-1,234");
  EXPECT_EQ(grouped_number(std::numeric_limits<long long>::max()), "9,223,372,036,854,775,807");
}

TEST(ReportHtmlTest, TextIsEscapedAndBadUtf8Replaced)
{
  EXPECT_EQ(html_escaped("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escaped("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(html_escaped("x\xff"
                         "y"),
            "x\xef\xbf\xbdy");
}
