"""The emergency emission-reduction list (应急减排清单): data model, import/validation, lookup."""
