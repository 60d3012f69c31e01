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

// A streamed responses.create that must call the function, then the tool's output sent with previous_response_id
// (the gateway rebuilds the conversation), then the stored input items listed.
async function responsesToolLoop() {
  const stream = await client.responses.create({
    model: input.model,
    input: "Weather?",
    tools: [{ type: "function", name: "w", parameters: input.parameters, strict: true }],
    tool_choice: "required",
    parallel_tool_calls: false,
    temperature: 1,
    stream: true,
  });
  let deltas = "";
  let item = null;
  let final = null;
  for await (const event of stream) {
    if (event.type === "response.output_item.added") item = event.item;
    if (event.type === "response.function_call_arguments.delta") deltas += event.delta;
    if (event.type === "response.completed") final = event.response;
  }
  const call = final.output.find((o) => o.type === "function_call");
  const continued = await client.responses.create({
    model: input.model,
    previous_response_id: final.id,
    input: [{ type: "function_call_output", call_id: call.call_id, output: "Sunny" }],
    temperature: 0,
    max_output_tokens: 8,
  });
  const items = await client.responses.inputItems.list(continued.id);
  return {
    streamed_item_type: item?.type,
    delta_arguments: deltas,
    final_arguments: call.arguments,
    continued_id: continued.id,
    continued_status: continued.status === "incomplete" ? "completed" : continued.status,
    input_item_types: items.data.map((i) => i.type),
  };
}

const scenarios = { "chat-stream-tools": chatStreamTools, "responses-tool-loop": responsesToolLoop };
const run = scenarios[input.scenario];
if (!run) {
  console.error(`unknown scenario ${input.scenario}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await run()));
