// Renders /openapi.yaml with Redoc. Every response, schema and sample is
// expanded, so the whole reference is in the page's DOM and a reader's
// browser search finds any field, value or example without clicking.
Redoc.init("/openapi.yaml", {
  expandResponses: "all",
  schemasExpansionLevel: "all",
  jsonSampleExpandLevel: "all",
  expandSingleSchemaField: true,
  showObjectSchemaExamples: true,
  requiredPropsFirst: true,
  hideLoading: true,
  nativeScrollbars: true,
  sortTagsAlphabetically: false,
  sortOperationsAlphabetically: false,
  theme: {
    typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" }, code: { fontFamily: "ui-monospace, monospace" } }
  }
}, document.getElementById("redoc"));
