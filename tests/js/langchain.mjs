// LangChain's chat models against corral, the way agent code uses them: @langchain/openai's
// ChatOpenAI (baseURL .../v1) and @langchain/ollama's ChatOllama - bindTools + invoke with a
// forced call -> AIMessage.tool_calls that validate, withStructuredOutput(zod, {method:
// "functionCalling"}, and the default JSON schema method) -> a valid object, plain invoke and
// stream.
//
// Forcing: ChatOpenAI sends OpenAI's tool_choice (a call option). ChatOllama has no tool_choice
// (Ollama's API has none) and passes only the fields it knows, so its client is given a fetch
// that adds corral's tool_choice extension ("required") to a chat request carrying tools: the
// test model has random weights and calls nothing on its own. Everything else is the library's
// own request and response handling.
// Usage: node langchain.mjs http://127.0.0.1:PORT
import { ChatOpenAI } from '@langchain/openai';
import { ChatOllama } from '@langchain/ollama';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { MODEL, schemas, descriptions, expectCall } from './agent_tools.mjs';

const host = process.argv[2];

const lcTools = Object.keys(schemas).map((name) =>
  tool(async () => 'unused', { name, description: descriptions[name], schema: schemas[name] }),
);
const Forecast = schemas.get_weather.describe('A forecast');

function checkToolCalls(msg, name, where) {
  assert.ok(msg instanceof AIMessage || msg.tool_calls, `${where}: an AIMessage`);
  assert.equal(msg.tool_calls?.length, 1, `${where}: one tool call in ${JSON.stringify(msg)}`);
  const call = msg.tool_calls[0];
  assert.equal(call.name, name, where);
  assert.ok(call.id, `${where}: the call has an id`);
  expectCall(name, call.args, where);
  assert.equal(msg.invalid_tool_calls?.length ?? 0, 0, `${where}: no invalid calls`);
  return call;
}

async function exercise(label, llm, force, unforce) {
  // bindTools + invoke: the forced call comes back parsed.
  const withTools = llm.bindTools(lcTools, force('lookup_order'));
  const msg = await withTools.invoke([new HumanMessage('Where is order 17?')]);
  const call = checkToolCalls(msg, 'lookup_order', `${label} bindTools`);

  // Streaming with tools: the chunks concatenate into the same kind of call.
  let merged;
  for await (const chunk of await withTools.stream('Where is order 17?')) merged = merged ? merged.concat(chunk) : chunk;
  checkToolCalls(merged, 'lookup_order', `${label} bindTools stream`);

  // The call and its ToolMessage go back; the model answers.
  unforce();
  const answer = await llm.bindTools(lcTools).invoke([
    new HumanMessage('Where is order 17?'),
    msg,
    new ToolMessage({ tool_call_id: call.id, content: '{"status":"shipped"}' }),
  ]);
  assert.equal(typeof answer.content, 'string', `${label}: answer after the tool result`);
  assert.ok((answer.usage_metadata?.output_tokens ?? 0) > 0, `${label}: usage ${JSON.stringify(answer.usage_metadata)}`);

  // withStructuredOutput through a function call: a parsed, valid object.
  const structured = llm.withStructuredOutput(Forecast, { name: 'get_weather', method: 'functionCalling' });
  const forecast = await structured.invoke('Weather in Oslo?');
  expectCall('get_weather', forecast, `${label} withStructuredOutput`);
  const raw = await llm
    .withStructuredOutput(Forecast, { name: 'get_weather', method: 'functionCalling', includeRaw: true })
    .invoke('Weather in Oslo?');
  expectCall('get_weather', raw.parsed, `${label} withStructuredOutput includeRaw`);
  assert.equal(raw.raw.tool_calls?.[0]?.name, 'get_weather');
  // zod's z.int() carries +-(2^53 - 1) bounds into the schema; they bound nothing a model writes.
  const counted = await llm
    .withStructuredOutput(z.object({ count: z.int(), label: z.string().max(6) }), {
      name: 'count_items',
      method: 'functionCalling',
    })
    .invoke('How many?');
  assert.ok(Number.isInteger(counted.count) && typeof counted.label === 'string', `${label} z.int(): ${JSON.stringify(counted)}`);
  // The default method: a JSON schema response format (OpenAI) or format (Ollama).
  expectCall('get_weather', await llm.withStructuredOutput(Forecast).invoke('Weather in Oslo?'), `${label} jsonSchema`);

  // Plain invoke and stream.
  const plain = await llm.invoke('Once upon a time');
  assert.equal(typeof plain.content, 'string');
  assert.ok(plain.content.length > 0, `${label}: plain invoke returned text`);
  let text = '';
  let chunks = 0;
  for await (const chunk of await llm.stream('Once upon a time')) {
    text += chunk.content;
    chunks++;
  }
  assert.ok(chunks > 1 && text.length > 0, `${label}: streamed ${chunks} chunks: ${JSON.stringify(text)}`);
}

// ChatOpenAI: OpenAI's tool_choice, as bindTools' call option.
const openai = new ChatOpenAI({
  model: MODEL,
  apiKey: 'unused',
  configuration: { baseURL: `${host}/v1` },
  maxTokens: 48,
  temperature: 1,
  modelKwargs: { seed: 5 },
});
await exercise(
  'ChatOpenAI',
  openai,
  (name) => ({ tool_choice: { type: 'function', function: { name } } }),
  () => {},
);
// "required" too, through the same option.
const required = await openai.bindTools([lcTools[0]], { tool_choice: 'required' }).invoke('Weather in Rome?');
checkToolCalls(required, 'get_weather', 'ChatOpenAI required');

// ChatOllama: see the note at the top. The fetch adds tool_choice naming the only tool the
// request carries or, with several, the one the test asks for through `forcedName`.
let forcedName = null;
const forcingFetch = async (url, init) => {
  if (String(url).endsWith('/api/chat') && init?.body) {
    const body = JSON.parse(init.body);
    if (body.tools?.length) {
      const name = body.tools.length === 1 ? body.tools[0].function.name : forcedName;
      if (name) body.tool_choice = { type: 'function', function: { name } };
      init = { ...init, body: JSON.stringify(body) };
    }
  }
  return fetch(url, init);
};
const ollama = new ChatOllama({ model: MODEL, baseUrl: host, numPredict: 48, temperature: 1, seed: 5, fetch: forcingFetch });
await exercise(
  'ChatOllama',
  ollama,
  (name) => {
    forcedName = name;
    return {};
  },
  () => {
    forcedName = null;
  },
);

console.log('langchain: ok');
