// @peculiar/x509 needs the reflect-metadata polyfill loaded first; import it only through here.
import "reflect-metadata";
export * from "@peculiar/x509";
