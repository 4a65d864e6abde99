import { isTokenFlowError, type TokenFlowClient } from '../src/index.ts';

/** Runs an example: prints a TokenFlow error as "CODE: message" (exit code 1) and always closes the client. */
export async function runExample(client: TokenFlowClient, body: () => Promise<void>) {
  try {
    await body();
  } catch (error) {
    if (!isTokenFlowError(error)) throw error;
    console.error(`\n${error.data?.code}: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}
