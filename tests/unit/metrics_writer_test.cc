#include "core/metrics_writer.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace failover::core {
namespace {

TEST(MetricsWriter, EscapesBackslashQuoteAndNewlineInLabelValues) {
  MetricsWriter w;
  w.gauge("x_up", "Up.", {{"service", "a\\b\"c\nd"}}, 1);
  EXPECT_EQ(w.text(), "# HELP x_up Up.\n# TYPE x_up gauge\nx_up{service=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsWriter, ANameCannotForgeAnotherSample) {
  MetricsWriter w;
  w.gauge("x_up", "Up.", {{"service", "web\"} 1\nx_up{service=\"evil"}}, 0);
  const std::string t = w.text();
  EXPECT_EQ(t.find("\nx_up{service=\"evil"), std::string::npos) << t;
  EXPECT_EQ(std::count(t.begin(), t.end(), '\n'), 3) << t;
}

TEST(MetricsWriter, HelpAndTypeOncePerFamilyWithSamplesTogether) {
  MetricsWriter w;
  w.counter("a_total", "A.", {{"k", "1"}}, 1);
  w.gauge("b", "B.", {}, 2);
  w.counter("a_total", "A.", {{"k", "2"}}, 3);
  EXPECT_EQ(w.text(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{k=\"1\"} 1\na_total{k=\"2\"} 3\n"
            "# HELP b B.\n# TYPE b gauge\nb 2\n");
}

TEST(MetricsWriter, DeclaredFamilyWithoutSamplesStillHasHelpAndType) {
  MetricsWriter w;
  w.family("c", MetricType::kGauge, "C with a \\ and a\nnewline.");
  EXPECT_EQ(w.text(), "# HELP c C with a \\\\ and a\\nnewline.\n# TYPE c gauge\n");
}

TEST(MetricsWriter, SeveralLabelsInTheOrderGiven) {
  MetricsWriter w;
  w.gauge("s", "S.", {{"upstream", "web"}, {"server", "127.0.0.1:1"}}, 0);
  EXPECT_NE(w.text().find("s{upstream=\"web\",server=\"127.0.0.1:1\"} 0\n"), std::string::npos);
}

TEST(MetricsWriter, NumbersAsPrometheusReadsThem) {
  EXPECT_EQ(MetricsWriter::number(0.5), "0.5");
  EXPECT_EQ(MetricsWriter::number(3), "3");
  EXPECT_EQ(MetricsWriter::number(0.1), "0.1");
  EXPECT_EQ(MetricsWriter::number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(MetricsWriter::number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(MetricsWriter::number(-std::numeric_limits<double>::infinity()), "-Inf");
  MetricsWriter w;
  w.counter("big_total", "Big.", {}, std::uint64_t{18446744073709551615u});
  w.gauge("neg", "Neg.", {}, -3);
  w.gauge("flag", "Flag.", {}, true);
  EXPECT_NE(w.text().find("big_total 18446744073709551615\n"), std::string::npos);
  EXPECT_NE(w.text().find("neg -3\n"), std::string::npos);
  EXPECT_NE(w.text().find("flag 1\n"), std::string::npos);
}

TEST(MetricsWriter, BadNamesAndConflictingFamiliesAreProgrammingErrors) {
  MetricsWriter w;
  EXPECT_THROW(w.gauge("1bad", "B.", {}, 1), std::logic_error);
  EXPECT_THROW(w.gauge("ok", "B.", {{"bad-label", "v"}}, 1), std::logic_error);
  w.gauge("ok", "B.", {}, 1);
  EXPECT_THROW(w.counter("ok", "B.", {}, 1), std::logic_error);
}

TEST(Histogram, CountsAValueInTheFirstBucketWhoseBoundIsAtLeastIt) {
  Histogram h{0.1, 0.5, 1};
  h.observe(0.05);
  h.observe(0.1);  // on a bound: that bucket (le is "less than or equal")
  h.observe(0.3);
  h.observe(7);    // past every bound: +Inf only
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{2, 3, 3, 4}));
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 7.45);
}

TEST(Histogram, BoundsMustBeFiniteAndIncreaseStrictly) {
  EXPECT_THROW(Histogram({0.1, 0.1}), std::logic_error);
  EXPECT_THROW(Histogram({0.5, 0.1}), std::logic_error);
  EXPECT_THROW(Histogram({0.1, std::numeric_limits<double>::infinity()}), std::logic_error);
  Histogram none(std::vector<double>{});  // only +Inf: a plain count and sum
  none.observe(3);
  EXPECT_EQ(none.cumulative_counts(), (std::vector<std::uint64_t>{1}));
}

TEST(MetricsWriter, HistogramIsCumulativeBucketsThenSumAndCount) {
  Histogram h{0.01, 0.25, 1};
  h.observe(0.125);
  h.observe(0.25);
  h.observe(3);
  MetricsWriter w;
  w.histogram("x_seconds", "X.", {}, h);
  EXPECT_EQ(w.text(),
            "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.01\"} 0\n"
            "x_seconds_bucket{le=\"0.25\"} 2\n"
            "x_seconds_bucket{le=\"1\"} 2\n"
            "x_seconds_bucket{le=\"+Inf\"} 3\n"
            "x_seconds_sum 3.375\n"
            "x_seconds_count 3\n");
}

TEST(MetricsWriter, HistogramSeriesShareOneFamilyAndEscapeTheirLabels) {
  Histogram a{1}, b{1};
  a.observe(0.5);
  MetricsWriter w;
  w.histogram("p_seconds", "P.", {{"phase", "cas"}}, a);
  w.gauge("other", "O.", {}, 1);
  w.histogram("p_seconds", "P.", {{"phase", "we\"ird\n"}}, b);
  const std::string t = w.text();
  EXPECT_EQ(t,
            "# HELP p_seconds P.\n# TYPE p_seconds histogram\n"
            "p_seconds_bucket{phase=\"cas\",le=\"1\"} 1\n"
            "p_seconds_bucket{phase=\"cas\",le=\"+Inf\"} 1\n"
            "p_seconds_sum{phase=\"cas\"} 0.5\n"
            "p_seconds_count{phase=\"cas\"} 1\n"
            "p_seconds_bucket{phase=\"we\\\"ird\\n\",le=\"1\"} 0\n"
            "p_seconds_bucket{phase=\"we\\\"ird\\n\",le=\"+Inf\"} 0\n"
            "p_seconds_sum{phase=\"we\\\"ird\\n\"} 0\n"
            "p_seconds_count{phase=\"we\\\"ird\\n\"} 0\n"
            "# HELP other O.\n# TYPE other gauge\nother 1\n");
}

TEST(MetricsWriter, HistogramLabelNamedLeOrAFamilyOfAnotherTypeIsAProgrammingError) {
  MetricsWriter w;
  EXPECT_THROW(w.histogram("h", "H.", {{"le", "1"}}, Histogram{1}), std::logic_error);
  w.gauge("g", "G.", {}, 1);
  EXPECT_THROW(w.histogram("g", "G.", {}, Histogram{1}), std::logic_error);
}

}  // namespace
}  // namespace failover::core
