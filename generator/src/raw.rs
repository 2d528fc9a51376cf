//! Reading progenitor's raw output (`progenitor.rs` as parsed): its positional methods on
//! `Client` and what each returns. Shared by [`crate::shape`], [`crate::model`] and
//! [`crate::facade`], which all read the same items; it imports none of them.

use std::collections::BTreeMap;

/// Progenitor's positional methods on `Client`, by name.
pub fn raw_methods(raw: &syn::File) -> BTreeMap<String, &syn::ImplItemFn> {
    let mut out = BTreeMap::new();
    for item in &raw.items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(tp) = &*imp.self_ty else { continue };
        if !tp.path.is_ident("Client") {
            continue;
        }
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it
                && f.sig.asyncness.is_some()
            {
                out.insert(f.sig.ident.to_string(), f);
            }
        }
    }
    out
}

/// The `T` of progenitor's `Result<ResponseValue<T>, Error<E>>`.
pub fn success_type(sig: &syn::Signature) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    let result = last_segment_args(ty, "Result")?;
    let syn::GenericArgument::Type(rv) = result.first()? else {
        return None;
    };
    let inner = last_segment_args(rv, "ResponseValue")?;
    match inner.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

fn last_segment_args<'a>(ty: &'a syn::Type, name: &str) -> Option<Vec<&'a syn::GenericArgument>> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => Some(a.args.iter().collect()),
        _ => None,
    }
}
