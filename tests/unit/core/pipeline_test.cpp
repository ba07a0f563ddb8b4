// run_pipeline: two real children joined by the agent's relay, no shell between them.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "agent/core/subprocess.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

ProcessSpec command(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = 60s;
  return spec;
}

}  // namespace

TEST_CASE("a pipeline relays the producer's whole output to the consumer and to the tap") {
  const ProcessSpec seq = command({"seq", "1", "300000"});
  const ProcessSpec count = command({"wc", "-c"});
  std::size_t tapped = 0;
  const PipelineResult r =
      run_pipeline(seq, count, [&](const char*, std::size_t size) { tapped += size; });
  REQUIRE(r.ok());
  const std::string expected = run_process(seq).out;
  CHECK(tapped == expected.size());
  CHECK(std::stoul(r.consumer.out) == expected.size());
}

TEST_CASE("a failed producer stops the consumer before it sees the end of its input") {
  const ProcessSpec producer = command({"sh", "-c", "seq 1 1000; echo 'dump failed' >&2; exit 3"});
  // Would print "complete" only if its stdin ended normally.
  const ProcessSpec consumer = command({"sh", "-c", "cat >/dev/null; sleep 5; echo complete"});
  const auto start = std::chrono::steady_clock::now();
  const PipelineResult r = run_pipeline(producer, consumer);
  CHECK_FALSE(r.ok());
  CHECK(r.producer.exit_code == 3);
  CHECK(r.consumer.cancelled);
  CHECK(r.consumer.out.empty());
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  CHECK(describe_failure(producer, consumer, r) == "sh exited with status 3: dump failed");
}

TEST_CASE("the producer's cancel flag stops the pipeline before the consumer sees an end") {
  std::atomic<bool> cancel{false};
  ProcessSpec producer = command({"yes"});
  producer.cancel = &cancel;
  // Would print "complete" only if its stdin ended normally.
  const ProcessSpec consumer = command({"sh", "-c", "cat >/dev/null; echo complete"});
  std::thread shutdown([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const PipelineResult r = run_pipeline(producer, consumer);
  shutdown.join();
  CHECK(r.producer.cancelled);
  CHECK(r.consumer.cancelled);
  CHECK(r.consumer.out.empty());
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(describe_failure(producer, consumer, r) ==
        "yes was stopped because the agent is shutting down");
}

TEST_CASE("a producer past its timeout stops the pipeline before the consumer sees an end") {
  ProcessSpec producer = command({"sleep", "30"});
  producer.timeout = 1s;
  const ProcessSpec consumer = command({"sh", "-c", "cat >/dev/null; echo complete"});
  const auto start = std::chrono::steady_clock::now();
  const PipelineResult r = run_pipeline(producer, consumer);
  CHECK(r.producer.timed_out);
  CHECK(r.consumer.cancelled);
  CHECK(r.consumer.out.empty());
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(describe_failure(producer, consumer, r) ==
        "sleep did not finish within 1s and was stopped");
}

TEST_CASE("a consumer that exits early stops an endless producer") {
  const ProcessSpec producer = command({"yes"});
  const ProcessSpec consumer = command({"head", "-c", "10"});
  const PipelineResult r = run_pipeline(producer, consumer);
  CHECK(r.consumer_gone);
  CHECK_FALSE(r.ok());
  CHECK(r.consumer.out == "y\ny\ny\ny\ny\n");
  CHECK(describe_failure(producer, consumer, r) == "head stopped reading its input before the end");
}

TEST_CASE("a consumer that fails is the reason a pipeline gives") {
  const ProcessSpec producer = command({"seq", "1", "100000"});
  const ProcessSpec consumer =
      command({"sh", "-c", "head -c 5 >/dev/null; echo 'no space' >&2; exit 4"});
  const PipelineResult r = run_pipeline(producer, consumer);
  CHECK_FALSE(r.ok());
  CHECK(r.consumer.exit_code == 4);
  CHECK(describe_failure(producer, consumer, r) == "sh exited with status 4: no space");
}

TEST_CASE("a pipeline whose consumer cannot start starts nothing") {
  CHECK_THROWS_WITH(
      run_pipeline(command({"seq", "1", "3"}), command({"no-such-program-x"})),
      Catch::Contains("cannot run no-such-program-x") && Catch::Contains("hint: is it installed"));
}

TEST_CASE("an exception from the tap stops both children and is rethrown") {
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(
      run_pipeline(command({"yes"}), command({"sh", "-c", "cat >/dev/null"}),
                   [](const char*, std::size_t) -> void { throw ProcessError("disk full"); }),
      "disk full");
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("a fed process reads what it is given; one that stops reading stops taking it") {
  FedProcess count(command({"wc", "-c"}));
  const std::string chunk(100000, 'x');
  for (int i = 0; i < 5; ++i) CHECK(count.write(chunk.data(), chunk.size()));
  const ProcessResult counted = count.finish();
  REQUIRE(counted.ok());
  CHECK(std::stoul(counted.out) == 500000);

  FedProcess head(command({"head", "-c", "10"}));
  bool taken = true;
  for (int i = 0; i < 50 && taken; ++i) {
    taken = head.write(chunk.data(), chunk.size());
    std::this_thread::sleep_for(10ms);
  }
  CHECK_FALSE(taken);  // head exited: the pipe broke, not the agent
  const ProcessResult headed = head.finish();
  CHECK(headed.ok());
  CHECK(headed.out == std::string(10, 'x'));
}
