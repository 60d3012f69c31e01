// The chat-template oracle: renders each {template, context} of a JSON list on stdin with @huggingface/jinja
// (what transformers.js uses) and writes a JSON list of {ok: true, text} or {ok: false, error} in the same order.
import { Template } from "@huggingface/jinja";

let input = "";
for await (const chunk of process.stdin) {
	input += chunk;
}

const results = JSON.parse(input).map(({ template, context }) => {
	try {
		return { ok: true, text: new Template(template).render(context) };
	} catch (error) {
		return { ok: false, error: String(error?.message ?? error) };
	}
});
process.stdout.write(JSON.stringify(results));
