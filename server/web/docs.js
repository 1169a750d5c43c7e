// docs: Swagger UI over this lossd's own spec (/openapi.yaml). "Try it out" sends requests
// to the same server (the spec's server is "/"). Nothing is fetched from elsewhere: no
// online validator. An API key entered on the page at / (kept in this tab's
// sessionStorage) is pre-filled into the Authorize dialog.
"use strict";

window.addEventListener("load", () => {
  const ui = SwaggerUIBundle({
    url: "openapi.yaml",
    dom_id: "#swagger",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    onComplete: () => {
      const key = sessionStorage.getItem("lossd.apiKey");
      if (key) ui.preauthorizeApiKey("apiKey", key);
    },
  });
  window.lossdDocs = ui;
});
