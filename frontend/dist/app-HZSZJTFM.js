function d(e){document.readyState==="loading"?document.addEventListener("DOMContentLoaded",e,{once:!0}):e()}d(()=>{document.documentElement.classList.add("js")});
