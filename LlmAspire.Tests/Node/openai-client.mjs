// The openai npm client, unmodified, against LlmAspire: reads {scenario, baseURL, model, ...} as JSON on stdin and
// writes what the client parsed as JSON on stdout.
import OpenAI from "openai";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const client = new OpenAI({ baseURL: input.baseURL, apiKey: input.apiKey ?? "unused", maxRetries: 0, timeout: 60_000 });

async function chatStreamTools() {
  const stream = await client.chat.completions.create({
    model: input.model,
    messages: [{ role: "user", content: "Weather?" }],
    tools: [{ type: "function", function: { name: "w", parameters: input.parameters } }],
    tool_choice: "required",
    parallel_tool_calls: false,
    temperature: 1,
    stream: true,
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    for (const piece of choice.delta.tool_calls ?? []) {
      calls[piece.index] ??= { id: piece.id, name: piece.function?.name, arguments: "" };
      calls[piece.index].arguments += piece.function?.arguments ?? "";
    }
    finish = choice.finish_reason ?? finish;
  }
  return { finish_reason: finish, tool_calls: calls };
}

const scenarios = { "chat-stream-tools": chatStreamTools };
const run = scenarios[input.scenario];
if (!run) {
  console.error(`unknown scenario ${input.scenario}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await run()));
