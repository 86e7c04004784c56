//! The OpenAPI 3.1 description of `modelgate serve` (GET /openapi.json). A test checks that
//! every route of [`super::http::ROUTES`] is described here.

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// The document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "modelgate serve",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Each model's champion (and the versions its aliases name) from the registry at a committed revision. Rows are encoded exactly as `modelgate batch` encodes them."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "description": "unknown_model, missing_feature, unseen_category, wrong_type, null_category, out_of_range, invalid_json, no_rows, too_many_rows, body_too_large, unauthorized, timeout, overloaded"},
                            "message": {"type": "string"},
                            "column": {"type": ["string", "null"], "description": "The feature at fault, when there is one."}
                        }
                    }}
                },
                "Row": {
                    "type": "object",
                    "description": "Feature name → value: a number (or null for missing) for a numerical feature, a category (string) for a categorical one. Other fields are ignored.",
                    "additionalProperties": true
                },
                "PredictRequest": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "row": {"$ref": "#/components/schemas/Row"},
                        "rows": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Row"}},
                        "id_fields": {"type": "array", "items": {"type": "string"}, "description": "Fields whose values identify a row (the prediction id's key, as `batch --id-column`); without them, the row's content is the key."}
                    },
                    "oneOf": [{"required": ["row"]}, {"required": ["rows"]}]
                },
                "Prediction": {
                    "type": "object",
                    "required": ["prediction_id", "model", "version", "alias", "score", "prediction"],
                    "properties": {
                        "prediction_id": {"type": "string"},
                        "model": {"type": "string"},
                        "version": {"type": "integer"},
                        "alias": {"type": ["string", "null"]},
                        "score": {"type": "number"},
                        "prediction": {"type": "integer", "enum": [0, 1]}
                    }
                },
                "PredictResponse": {
                    "type": "object",
                    "required": ["revision", "predictions"],
                    "properties": {
                        "revision": {"type": "string", "description": "The commit served."},
                        "predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}}
                    }
                }
            }
        },
        "paths": {
            "/v1/models/{model}/predict": {"post": {
                "summary": "Score one row or a batch of rows",
                "security": [{"bearer": []}, {}],
                "parameters": [{
                    "name": "model", "in": "path", "required": true,
                    "schema": {"type": "string"},
                    "description": "`name` (its champion), `name@alias` or `name@vN`"
                }],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
                "responses": {
                    "200": {"description": "One prediction a row, in order", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
                    "400": error_response("The body is not a prediction request"),
                    "401": error_response("A token is required and was missing or wrong"),
                    "404": error_response("The model, alias or version is not served"),
                    "408": error_response("The request took longer than the timeout"),
                    "413": error_response("The body or the batch is over the limit"),
                    "422": error_response("A row cannot be encoded: the column and the reason"),
                    "503": error_response("Too many requests at once (back-pressure)")
                }
            }},
            "/v1/models": {"get": {
                "summary": "The served revision, its models, aliases, versions and features, and the models that failed to load",
                "security": [{"bearer": []}, {}],
                "responses": {"200": {"description": "The served models"}, "401": error_response("A token is required")}
            }},
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "The process answers"}}}},
            "/readyz": {"get": {"summary": "Readiness: the served revision, loaded and failed models, the last refused revision", "responses": {"200": {"description": "At least one model is served"}, "503": {"description": "No model is served"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_described() {
        let doc = super::document();
        for (method, path) in super::super::http::ROUTES {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
        }
        assert_eq!(
            doc["paths"].as_object().unwrap().len(),
            super::super::http::ROUTES.len(),
            "the document describes a route the server does not have"
        );
    }
}
