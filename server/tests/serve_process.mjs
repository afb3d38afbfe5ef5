// Starts `ember serve` on a free loopback port (--port 0) and stops it: shared by the Node tests.
import { spawn } from "node:child_process";

export async function startServer(extraArgs = []) {
  const cli = process.env.EMBER_CLI;
  const model = process.env.EMBER_MODEL;
  if (!cli || !model) throw new Error("set EMBER_CLI and EMBER_MODEL");
  const child = spawn(cli, ["serve", "-m", model, "--port", "0", "-t", "1", ...extraArgs], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start:\n" + log)), 60000);
    child.stderr.on("data", (data) => {
      log += data.toString();
      const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return {
    port,
    baseURL: `http://127.0.0.1:${port}/v1`,
    log: () => log,
    async stop() {
      const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
      child.kill("SIGTERM");
      return exited;
    },
  };
}
