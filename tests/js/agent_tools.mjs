// Shared by the agent client tests (ollama_tools, openai_tools, langchain, ai_sdk): the tools
// they offer, as zod schemas (what LangChain and the AI SDK take) and as the JSON Schema the
// plain clients send, plus checks that a returned call names a known tool and that its
// arguments validate against that tool's schema. Not a test on its own.
import { z } from 'zod';
import assert from 'node:assert/strict';

export const MODEL = 'tiny-tools';

// Small, closed schemas: the test models have random weights, so every call they make comes
// from tool_choice forcing the arguments through these schemas.
export const schemas = {
  get_weather: z.object({
    city: z.string().max(12).describe('City name'),
    unit: z.enum(['celsius', 'fahrenheit']),
  }),
  lookup_order: z.object({
    order_id: z.string().max(8),
    express: z.boolean(),
  }),
};

export const descriptions = {
  get_weather: 'Current weather in a city',
  lookup_order: 'Status of an order',
};

// JSON Schema for a tool's parameters (zod 4 writes it; the $schema annotation is dropped as
// most hand-written tool definitions have none).
export function jsonSchema(name) {
  const { $schema, ...rest } = z.toJSONSchema(schemas[name]);
  return rest;
}

// The OpenAI / Ollama tool definition for `name`.
export function toolDef(name) {
  return { type: 'function', function: { name, description: descriptions[name], parameters: jsonSchema(name) } };
}

// Asserts that `args` (an object, or a JSON string as OpenAI sends it) is a valid call of
// `name`; returns the parsed arguments.
export function expectCall(name, args, where) {
  assert.ok(name in schemas, `${where}: unknown tool ${name}`);
  const obj = typeof args === 'string' ? JSON.parse(args) : args;
  const r = schemas[name].safeParse(obj);
  assert.ok(r.success, `${where}: arguments ${JSON.stringify(obj)} do not validate for ${name}: ${r.error?.message}`);
  return obj;
}
