// The openai npm client against /v1/responses: one response created whole, the same streamed through the
// client's strict stream helper (which rebuilds the response from the events and fails on any out of place),
// and the raw events of a plain streamed create. Reads {"baseURL", "model", "input", "instructions",
// "max_output_tokens"} on stdin, writes what each way parsed as JSON on stdout.
import OpenAI from "openai";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const client = new OpenAI({ baseURL: request.baseURL, apiKey: "unused", maxRetries: 0 });
const body = {
  model: request.model,
  input: request.input,
  instructions: request.instructions,
  max_output_tokens: request.max_output_tokens,
  temperature: 0,
};

const whole = await client.responses.create(body);

const helper = client.responses.stream(body);
let helperDeltas = "";
helper.on("response.output_text.delta", (event) => { helperDeltas += event.delta; });
const helperFinal = await helper.finalResponse();

const types = [];
let deltas = "";
let last = null;
for await (const event of await client.responses.create({ ...body, stream: true })) {
  types.push(event.type);
  if (event.type === "response.output_text.delta") deltas += event.delta;
  last = event;
}

process.stdout.write(JSON.stringify({
  id: whole.id,
  status: whole.status,
  text: whole.output_text,
  usage: whole.usage,
  helperText: helperFinal.output_text,
  helperDeltas,
  helperStatus: helperFinal.status,
  helperUsage: helperFinal.usage,
  types,
  deltas,
  finalText: (last?.response?.output ?? [])
    .filter((item) => item.type === "message")
    .flatMap((item) => item.content.map((part) => part.text))
    .join(""),
  finalStatus: last?.response?.status ?? null,
}));
