// Renders stdin with LiquidJS, the engine Vapi uses for prompts (tests/test_prompts_liquid.py).
const { Liquid } = require("liquidjs");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const rendered = await new Liquid().parseAndRender(input, {});
  process.stdout.write(rendered);
});
