// Ends an expansion of a .def file: every WIRE_ macro is undefined, for the next expansion
// to define each macro its file uses (as nothing where that expansion has no use for it).
// Included once per expansion, so no include guard.
#undef WIRE_ENUM
#undef WIRE_VALUE
#undef WIRE_ENUM_END
#undef WIRE_CONST
#undef WIRE_RECORD
#undef WIRE_FIELD
#undef WIRE_OPTIONAL
#undef WIRE_LOCAL
#undef WIRE_RECORD_END
#undef WIRE_FIXED
#undef WIRE_FIXED_FIELD
#undef WIRE_FIXED_TEXT
#undef WIRE_FIXED_END
