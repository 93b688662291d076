/** Header names of the APIs this simulator serves (HTTP matches them case-insensitively). */
export const H = {
  requestId: "Lambda-Runtime-Aws-Request-Id",
  deadline: "Lambda-Runtime-Deadline-Ms",
  functionArn: "Lambda-Runtime-Invoked-Function-Arn",
  traceId: "Lambda-Runtime-Trace-Id",
  clientContext: "Lambda-Runtime-Client-Context",
  cognitoIdentity: "Lambda-Runtime-Cognito-Identity",
  functionErrorType: "Lambda-Runtime-Function-Error-Type",
  responseMode: "Lambda-Runtime-Function-Response-Mode",
  invocationType: "X-Amz-Invocation-Type",
  logType: "X-Amz-Log-Type",
  amzClientContext: "X-Amz-Client-Context",
  logResult: "X-Amz-Log-Result",
  functionError: "X-Amz-Function-Error",
  executedVersion: "X-Amz-Executed-Version",
  amznRequestId: "x-amzn-RequestId",
} as const;
