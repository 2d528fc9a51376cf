//! Rewrites of progenitor's request code that cut the cost of every call, without changing what
//! is sent or decoded (measured by `cargo xtask bench`):
//!
//! - progenitor sends `api-version: <info.version>` with every request, a header the vendor
//!   does not document; the statements that build it are removed (the transport used to strip
//!   it again at run time), and the then empty header map is created without allocating;
//! - `ResponseValue::from_response(response)` copies the response's headers before decoding;
//!   it becomes `crate::transport::json_response(response)`, which moves them, and keeps them
//!   for the error when the body does not decode;
//! - a path parameter is written into the URL as `encode_path(&value.to_string())`, two
//!   strings made and dropped per call; it becomes `crate::transport::PathSegment(&value)`,
//!   which percent-encodes the value's text with progenitor's set while `format!` writes it.

use syn::visit_mut::VisitMut;

/// Applies the rewrites to progenitor's file; returns how many places changed.
pub fn rewrite(file: &mut syn::File) -> usize {
    let mut v = Lean { changed: 0 };
    v.visit_file_mut(file);
    v.changed
}

struct Lean {
    changed: usize,
}

fn path_ends_with(path: &syn::Path, tail: &[&str]) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.len() >= tail.len()
        && segments[segments.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}

/// `header_map.append(HeaderName::from_static("api-version"), ..)`.
fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    call.method == "append"
        && call
            .args
            .first()
            .is_some_and(|a| quote::quote!(#a).to_string().contains("\"api-version\""))
}

/// `value` in `encode_path(&value.to_string())`.
fn encode_path_arg(expr: &syn::Expr) -> Option<syn::Expr> {
    let syn::Expr::Call(call) = expr else { return None };
    let syn::Expr::Path(func) = call.func.as_ref() else {
        return None;
    };
    if !path_ends_with(&func.path, &["encode_path"]) || call.args.len() != 1 {
        return None;
    }
    let syn::Expr::Reference(reference) = &call.args[0] else {
        return None;
    };
    let syn::Expr::MethodCall(to_string) = reference.expr.as_ref() else {
        return None;
    };
    (to_string.method == "to_string" && to_string.args.is_empty()).then(|| {
        let receiver = &to_string.receiver;
        syn::parse_quote!(&#receiver)
    })
}

impl VisitMut for Lean {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|s| !is_api_version_append(s));
        self.changed += before - block.stmts.len();
        syn::visit_mut::visit_block_mut(self, block);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        syn::visit_mut::visit_macro_mut(self, mac);
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return;
        };
        let mut changed = 0;
        for arg in args.iter_mut() {
            if let Some(value) = encode_path_arg(arg) {
                *arg = syn::parse_quote!(crate::transport::PathSegment(#value));
                changed += 1;
            }
        }
        if changed > 0 {
            mac.tokens = quote::ToTokens::to_token_stream(&args);
            self.changed += changed;
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let syn::Expr::Call(call) = expr else { return };
        let syn::Expr::Path(func) = call.func.as_ref() else {
            return;
        };
        if path_ends_with(&func.path, &["HeaderMap", "with_capacity"]) {
            *expr = syn::parse_quote!(::reqwest::header::HeaderMap::new());
            self.changed += 1;
        } else if path_ends_with(&func.path, &["ResponseValue", "from_response"]) && call.args.len() == 1 {
            let arg = &call.args[0];
            *expr = syn::parse_quote!(crate::transport::json_response(#arg));
            self.changed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_and_the_header_copy_are_removed() {
        let mut file: syn::File = syn::parse_quote! {
            impl Client {
                pub async fn op<'a>(&'a self) -> Result<ResponseValue<types::Batch>, Error<()>> {
                    let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                    header_map.append(
                        ::reqwest::header::HeaderName::from_static("api-version"),
                        ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                    );
                    let url = format!("{}/v1/batches/{}", self.baseurl, encode_path(&batch_id.to_string()),);
                    let request = self.client.delete(url).headers(header_map).build()?;
                    match response.status().as_u16() {
                        200u16 => ResponseValue::from_response(response).await,
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        };
        assert_eq!(rewrite(&mut file), 4);
        let text = prettyplease::unparse(&file);
        assert!(!text.contains("api-version"), "{text}");
        assert!(
            text.contains("self.baseurl, crate ::transport::PathSegment(& batch_id)"),
            "{text}"
        );
        assert!(text.contains("HeaderMap::new()"), "{text}");
        assert!(
            text.contains("crate::transport::json_response(response).await"),
            "{text}"
        );
    }
}
