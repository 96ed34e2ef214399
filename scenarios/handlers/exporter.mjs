// A batch job invoked asynchronously: holds its execution environment for ~20 s.
export const handler = async (event) => {
  await new Promise((r) => setTimeout(r, 20_000));
  return { exported: true, source: event.source };
};
