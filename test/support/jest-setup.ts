// The SDK warns on every load under Node 20 (Lambdas run Node 22); the test logs need not repeat
// it. Tests that check the CLI's own stderr spawn it with an environment of their own.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import 'aws-sdk-client-mock-jest';
