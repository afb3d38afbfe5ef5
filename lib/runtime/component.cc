// placeholder so the component is never empty
