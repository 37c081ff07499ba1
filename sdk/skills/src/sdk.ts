// The one place the skills import the SDK from. A relative path, because the repository has no
// workspace links yet; swap it for "@aegis/skill-sdk" when it does.
export * from "../../skill-sdk/src/index";
