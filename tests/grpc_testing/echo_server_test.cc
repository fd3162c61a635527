// EchoServer's four methods over a real channel: backend names, streams, statuses, metadata,
// delays cut short by cancellation, and a server told to fail every call.

#include "tests/grpc_testing/echo_server.h"

#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace weir_test {
namespace {

using weir::test::EchoReply;
using weir::test::EchoRequest;

class EchoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start("v1");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = weir::test::Echo::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  void Deadline(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  std::unique_ptr<EchoServer> server_;
  std::unique_ptr<weir::test::Echo::Stub> stub_;
};

TEST_F(EchoServerTest, UnaryNamesTheBackendAndEchoesMetadata) {
  grpc::ClientContext context;
  Deadline(&context);
  context.AddMetadata("x-test", "yes");
  EchoRequest request;
  request.set_message("hi");
  request.set_echo_headers(true);
  request.set_reply_bytes(100'000);
  EchoReply reply;
  ASSERT_TRUE(stub_->Echo(&context, request, &reply).ok());
  EXPECT_EQ(reply.message(), "hi");
  EXPECT_EQ(reply.backend(), "v1");
  EXPECT_EQ(reply.padding().size(), 100'000u);
  EXPECT_EQ(reply.request_headers().at("x-test"), "yes");
  EXPECT_EQ(server_->rpcs(), 1u);
}

TEST_F(EchoServerTest, UnaryEndsWithTheRequestedStatus) {
  grpc::ClientContext context;
  Deadline(&context);
  EchoRequest request;
  request.set_status_code(grpc::StatusCode::RESOURCE_EXHAUSTED);
  request.set_status_message("full");
  EchoReply reply;
  grpc::Status status = stub_->Echo(&context, request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "full");
}

TEST_F(EchoServerTest, ServerStreamSendsReplyCountReplies) {
  grpc::ClientContext context;
  Deadline(&context);
  EchoRequest request;
  request.set_reply_count(3);
  auto reader = stub_->ServerStream(&context, request);
  EchoReply reply;
  std::vector<int> indexes;
  while (reader->Read(&reply)) indexes.push_back(reply.index());
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_THAT(indexes, ::testing::ElementsAre(0, 1, 2));
}

TEST_F(EchoServerTest, ClientStreamJoinsTheMessages) {
  grpc::ClientContext context;
  Deadline(&context);
  EchoReply reply;
  auto writer = stub_->ClientStream(&context, &reply);
  for (const char* message : {"a", "b", "c"}) {
    EchoRequest request;
    request.set_message(message);
    ASSERT_TRUE(writer->Write(request));
  }
  ASSERT_TRUE(writer->WritesDone());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(reply.message(), "a,b,c");
  EXPECT_EQ(reply.index(), 3);
}

TEST_F(EchoServerTest, BidiStreamAnswersEachRequestInOrder) {
  grpc::ClientContext context;
  Deadline(&context);
  auto stream = stub_->BidiStream(&context);
  for (int i = 0; i < 3; ++i) {
    EchoRequest request;
    request.set_message(std::to_string(i));
    ASSERT_TRUE(stream->Write(request));
    EchoReply reply;
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply.message(), std::to_string(i));
    EXPECT_EQ(reply.index(), i);
  }
  EchoRequest last;
  last.set_status_code(grpc::StatusCode::ABORTED);
  ASSERT_TRUE(stream->Write(last));
  EchoReply ignored;
  EXPECT_FALSE(stream->Read(&ignored));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::ABORTED);
}

TEST_F(EchoServerTest, DelayEndsEarlyWhenTheCallIsCancelled) {
  EchoRequest request;
  request.set_delay_ms(100);
  {
    grpc::ClientContext context;
    Deadline(&context);
    EchoReply reply;
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(stub_->Echo(&context, request, &reply).ok());
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
  }
  request.set_delay_ms(10'000);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  EchoReply reply;
  EXPECT_EQ(stub_->Echo(&context, request, &reply).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  for (int i = 0; i < 200 && server_->cancelled() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->cancelled(), 1u);
}

TEST_F(EchoServerTest, FailEveryCallOverridesTheOutcomeAndNamesTheBackend) {
  server_->FailEveryCall(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  grpc::ClientContext context;
  Deadline(&context);
  EchoRequest request;
  EchoReply reply;
  grpc::Status status = stub_->Echo(&context, request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "down");
  auto backend = context.GetServerTrailingMetadata().find("echo-backend");
  ASSERT_NE(backend, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(backend->second.data(), backend->second.size()), "v1");

  server_->FailEveryCall(grpc::Status::OK);
  grpc::ClientContext again;
  Deadline(&again);
  EXPECT_TRUE(stub_->Echo(&again, request, &reply).ok());
}

}  // namespace
}  // namespace weir_test
