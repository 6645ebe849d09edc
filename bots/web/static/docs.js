// Starts Swagger UI on the app's OpenAPI document. A file, not an inline script: the CSP
// allows scripts from this origin only.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
